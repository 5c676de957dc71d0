"""Softmax regression from scratch (in the manner of d2l.ai): softmax, cross-entropy by
indexing, accuracy, a hand-written SGD updater."""
import torch
from torch.utils import data

from _synthetic import fashion_like

torch.manual_seed(0)
train_x, train_y = fashion_like(1500, seed=5)
test_x, test_y = fashion_like(300, seed=6)
batch_size = 256
train_iter = data.DataLoader(data.TensorDataset(torch.tensor(train_x), torch.tensor(train_y)),
                             batch_size, shuffle=True)
test_iter = data.DataLoader(data.TensorDataset(torch.tensor(test_x), torch.tensor(test_y)),
                            batch_size, shuffle=False)

num_inputs = 784
num_outputs = 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return - torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    right, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += accuracy(net(X), y)
            total += y.numel()
    return right / total


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr = 0.1
for epoch in range(5):
    total_loss, total_right, n = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = cross_entropy(y_hat, y)  # noqa: E741
        l.sum().backward()
        sgd([W, b], lr, X.shape[0])
        total_loss += float(l.sum())
        total_right += accuracy(y_hat, y)
        n += y.numel()
    test_acc = evaluate_accuracy(net, test_iter)
    print(f"epoch {epoch + 1}: loss {total_loss / n:.3f}, train acc {total_right / n:.3f}, "
          f"test acc {test_acc:.3f}")
RESULT = {"test_acc": test_acc, "loss": total_loss / n}
