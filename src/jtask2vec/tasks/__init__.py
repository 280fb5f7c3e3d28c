"""Tasks: the `Task` type, one loader per corpus, and the splitting/subsampling utilities."""

from jtask2vec.tasks.base import SPLITS, Provenance, SplitName, Task
from jtask2vec.tasks.loading import LoadedData
from jtask2vec.tasks.registry import LOADERS, LoaderInfo, list_loaders, load_task, register_loader, task_spec
from jtask2vec.tasks.splits import stratified_partition, stratified_split, stratified_subsample
from jtask2vec.tasks.synthetic import make_synthetic_task

__all__ = [
    "LOADERS",
    "SPLITS",
    "LoadedData",
    "LoaderInfo",
    "Provenance",
    "SplitName",
    "Task",
    "list_loaders",
    "load_task",
    "make_synthetic_task",
    "register_loader",
    "stratified_partition",
    "stratified_split",
    "stratified_subsample",
    "task_spec",
]
