"""XOR as blog posts write it: a 2-2-1 sigmoid network, MSELoss, SGD with momentum, epochs
printed, predictions rounded."""
import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(2)
X = torch.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = torch.Tensor([0, 1, 1, 0]).view(-1, 1)


class XOR(nn.Module):
    def __init__(self, input_dim=2, output_dim=1):
        super(XOR, self).__init__()
        self.lin1 = nn.Linear(input_dim, 4)
        self.lin2 = nn.Linear(4, output_dim)

    def forward(self, x):
        x = self.lin1(x)
        x = torch.sigmoid(x)
        x = self.lin2(x)
        return torch.sigmoid(x)


model = XOR()


def weights_init(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(0, 1)
            m.bias.data.zero_()


weights_init(model)
loss_func = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

epochs = 1001
steps = X.size(0)
for i in range(epochs):
    for j in range(steps):
        x_var = X[j]
        y_var = Y[j]
        optimizer.zero_grad()
        y_hat = model(x_var)
        loss = loss_func.forward(y_hat, y_var)
        loss.backward()
        optimizer.step()
    if i % 250 == 0:
        print("Epoch: {0}, Loss: {1}, ".format(i, loss.data.numpy()))

with torch.no_grad():
    predictions = model(X).round()
print(predictions.view(-1).tolist())
RESULT = {"correct": int((predictions == Y).sum().item()), "loss": loss.item()}
