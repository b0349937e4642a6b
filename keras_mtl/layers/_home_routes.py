"""Which experts each gate of `HoMELayer` mixes, from the tasks' categories."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class HomeRoutes:
    """Expert indices of HoME's two levels.

    Level 1 (meta) experts are the `s` shared ones, then `m` per category;
    level 2 repeats them and adds `k` per task (`num_task_experts`).

    Attributes:
        categories: the distinct categories, in first-seen order.
        category_of: each task's category index.
        meta: per level-1 gate (shared first, then one per category) its experts.
        own: per task, its level-2 experts of its own.
        task: per task, the level-2 experts its gate mixes (its category's, then its own).
        branch: per level-2 expert, the meta representation it reads (0 = shared, 1 + c).
        num_meta_experts: level-1 experts.
        num_task_level_experts: level-2 experts.

    Example:
    >>> routes = HomeRoutes.of(("a", "b", "a"), 1, 1, 1)
    >>> routes.task[2], routes.branch
    ([0, 1, 5], [0, 1, 2, 1, 2, 1])
    """

    categories: tuple
    category_of: list
    meta: list
    own: list
    task: list
    branch: list
    num_meta_experts: int
    num_task_level_experts: int

    @classmethod
    def of(cls, task_categories, s, m, k):
        categories = tuple(dict.fromkeys(task_categories))  # first-seen order
        category_of = [categories.index(c) for c in task_categories]
        shared = list(range(s))
        meta = [shared] + [
            shared + list(range(s + c * m, s + (c + 1) * m)) for c in range(len(categories))
        ]
        num_meta = s + len(categories) * m
        tasks = range(len(task_categories))
        own = [list(range(num_meta + t * k, num_meta + (t + 1) * k)) for t in tasks]
        branch = [0] * s + [1 + c for c in range(len(categories)) for _ in range(m)]
        branch += [1 + category_of[t] for t in tasks for _ in range(k)]
        return cls(
            categories=categories,
            category_of=category_of,
            meta=meta,
            own=own,
            task=[meta[1 + category_of[t]] + own[t] for t in tasks],
            branch=branch,
            num_meta_experts=num_meta,
            num_task_level_experts=num_meta + len(task_categories) * k,
        )
