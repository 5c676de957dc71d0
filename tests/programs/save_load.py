"""Saving and loading: a state_dict to a file and back, an optimizer's too, a checkpoint dict."""
import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


torch.manual_seed(0)
net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(5, 8)
loss = net(x).pow(2).mean()
loss.backward()
optimizer.step()

print("Model's state_dict:")
for param_tensor in net.state_dict():
    print(param_tensor, "\t", net.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model_weights.pth")
    torch.save(net.state_dict(), path)
    model = Net()
    model.load_state_dict(torch.load(path, weights_only=True))
    model.eval()

    ckpt = os.path.join(tmp, "checkpoint.tar")
    torch.save({"epoch": 5, "model_state_dict": net.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss}, ckpt)
    model2 = Net()
    optimizer2 = optim.SGD(model2.parameters(), lr=0.5)
    checkpoint = torch.load(ckpt, weights_only=True)
    model2.load_state_dict(checkpoint["model_state_dict"])
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    epoch = checkpoint["epoch"]
    loss2 = checkpoint["loss"]
    model2.train()

with torch.no_grad():
    same = torch.equal(model(x), net(x)) and torch.equal(model2(x), net(x))
RESULT = {"same": same, "epoch": epoch, "loss_same": float(loss2) == loss.item(),
          "lr": optimizer2.param_groups[0]["lr"], "keys": list(net.state_dict())}
