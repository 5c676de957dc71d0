"""A micrograd-style demo on two moons: an MLP, a max-margin (SVM) loss with L2
regularisation, accuracy by Python comparison, a decaying learning rate, p.data updates."""
import numpy as np
import torch
import torch.nn as nn

from _synthetic import moons

torch.manual_seed(1337)
X, y = moons(100, noise=0.1, seed=1)
y = y * 2 - 1  # -1 or 1

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
print(model)
print("number of parameters", sum(p.numel() for p in model.parameters()))


def loss(batch_size=None):
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = torch.tensor(Xb, dtype=torch.float32)
    scores = model(inputs).squeeze(1)
    targets = torch.tensor(yb, dtype=torch.float32)
    losses = (1 + -targets * scores).relu()
    data_loss = losses.sum() * (1.0 / losses.numel())
    alpha = 1e-4
    reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.item() > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


for k in range(100):
    total_loss, acc = loss()
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    if k % 10 == 0:
        print(f"step {k} loss {total_loss.item()}, accuracy {acc*100}%")

RESULT = {"accuracy": acc, "loss": total_loss.item()}
