"""The jobs layer: the job graph, the stages (job -> key -> inputs -> pure call -> publish), the
scheduler and the executors. The only layer that reads and writes the store."""
