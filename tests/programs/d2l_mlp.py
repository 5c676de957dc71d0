"""A multilayer perceptron from scratch (in the manner of d2l.ai): Parameters, a ReLU written
with torch.max, @, CrossEntropyLoss(reduction='none') and an optimizer."""
import torch
from torch import nn
from torch.utils import data

from _synthetic import fashion_like

torch.manual_seed(0)
train_x, train_y = fashion_like(1500, seed=7)
test_x, test_y = fashion_like(300, seed=8)
batch_size = 256
train_iter = data.DataLoader(data.TensorDataset(torch.tensor(train_x), torch.tensor(train_y)),
                             batch_size, shuffle=True)
test_iter = data.DataLoader(data.TensorDataset(torch.tensor(test_x), torch.tensor(test_y)),
                            batch_size)

num_inputs, num_outputs, num_hiddens = 784, 10, 256
W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b2]


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2


loss = nn.CrossEntropyLoss(reduction="none")
num_epochs, lr = 5, 0.5
updater = torch.optim.SGD(params, lr=lr)
for epoch in range(num_epochs):
    for X, y in train_iter:
        l = loss(net(X), y)  # noqa: E741
        updater.zero_grad()
        l.mean().backward()
        updater.step()
    with torch.no_grad():
        right = sum(float((net(X).argmax(axis=1) == y).sum()) for X, y in test_iter)
    test_acc = right / len(test_x)
    print(f"epoch {epoch + 1}: test acc {test_acc:.3f}")
RESULT = {"test_acc": test_acc}
