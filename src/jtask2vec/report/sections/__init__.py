"""The report's sections, one module each: tasks (Table 1), fine-tune (Table 2), similarity (Table 3,
heatmaps, dendrogram), transfer (Table 4, gain), evaluation, environment (reproducibility)."""
