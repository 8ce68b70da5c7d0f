"""Write PyTorch's rates and momenta for the schedules skclr claims to match: ``pytorch_schedules.csv``.

``tests/test_schedules.py`` compares skclr's schedules with that file on every run, so the
parity with PyTorch is tested where torch is not installed (it is no test dependency), and
with this module's :func:`torch_values` when it is. Rerun after changing :data:`CASES`::

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
    /tmp/torchvenv/bin/python tests/data/make_pytorch_reference.py

Each case is a PyTorch scheduler with its arguments, stepped ``steps`` times (several cycles).
``lr`` and ``momentum`` are the optimizer's values while the step at that row runs, i.e. before
``scheduler.step()``, to 10 significant digits; ``momentum`` is empty where the scheduler does
not cycle it.
"""

from __future__ import annotations

import csv
from pathlib import Path

PATH = Path(__file__).with_name("pytorch_schedules.csv")

#: (case id, scheduler class in ``torch.optim.lr_scheduler``, its keyword arguments, steps).
#: ``base_lr`` of ``CosineAnnealingWarmRestarts`` is the optimizer's initial rate.
CASES: list[tuple[str, str, dict, int]] = [
    *(
        (f"cyclic_{mode}_{i}", "CyclicLR", dict(kwargs, mode=mode), steps)
        for mode in ("triangular", "triangular2", "exp_range")
        for i, (kwargs, steps) in enumerate(
            [
                (dict(base_lr=1e-3, max_lr=1e-2, step_size_up=7, gamma=0.99), 60),
                (
                    dict(base_lr=0.05, max_lr=0.5, step_size_up=25, gamma=0.999, base_momentum=0.7, max_momentum=0.95),
                    150,
                ),
                (dict(base_lr=1e-4, max_lr=1e-1, step_size_up=2.5, gamma=0.9), 30),
            ]
        )
    ),
    *(
        (f"one_cycle_{anneal}_{i}", "OneCycleLR", dict(kwargs, anneal_strategy=anneal), kwargs["total_steps"])
        for anneal in ("cos", "linear")
        for i, kwargs in enumerate(
            [
                dict(max_lr=0.05, total_steps=80),
                dict(max_lr=0.01, total_steps=37, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
                dict(max_lr=1.0, total_steps=10, pct_start=0.5, base_momentum=0.8, max_momentum=0.99),
                dict(max_lr=0.1, total_steps=200, pct_start=0.1),
            ]
        )
    ),
    ("sgdr_0", "CosineAnnealingWarmRestarts", dict(base_lr=0.1, T_0=10, T_mult=2, eta_min=0.0), 160),
    ("sgdr_1", "CosineAnnealingWarmRestarts", dict(base_lr=0.1, T_0=7, T_mult=1, eta_min=0.01), 100),
    ("sgdr_2", "CosineAnnealingWarmRestarts", dict(base_lr=0.05, T_0=3, T_mult=3, eta_min=0.001), 130),
    ("sgdr_3", "CosineAnnealingWarmRestarts", dict(base_lr=1.0, T_0=1, T_mult=2, eta_min=0.1), 70),
]


def torch_values(scheduler: str, kwargs: dict, steps: int) -> tuple[list[float], list[float] | None]:
    """PyTorch's rate and momentum (None where not cycled) at iterations ``0 .. steps - 1``."""
    import torch

    kwargs = dict(kwargs)
    cycles_momentum = scheduler != "CosineAnnealingWarmRestarts"
    # CyclicLR and OneCycleLR set the optimizer's rate themselves; SGDR starts from it.
    lr = 0.1 if cycles_momentum else kwargs.pop("base_lr")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)
    sched = getattr(torch.optim.lr_scheduler, scheduler)(optimizer, **kwargs)
    lrs, momenta = [], []
    for _ in range(steps):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        momenta.append(float(optimizer.param_groups[0]["momentum"]))
        optimizer.step()
        sched.step()
    return lrs, momenta if cycles_momentum else None


def main() -> None:
    import torch

    with PATH.open("w", newline="") as file:
        file.write(f"# written by tests/data/make_pytorch_reference.py with torch {torch.__version__}\n")
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["case", "step", "lr", "momentum"])
        for case, scheduler, kwargs, steps in CASES:
            lrs, momenta = torch_values(scheduler, kwargs, steps)
            for step, lr in enumerate(lrs):
                momentum = "" if momenta is None else f"{momenta[step]:.10g}"
                writer.writerow([case, step, f"{lr:.10g}", momentum])
    print(f"{PATH}: {sum(case[-1] for case in CASES)} rows, {PATH.stat().st_size} bytes")


if __name__ == "__main__":
    main()
