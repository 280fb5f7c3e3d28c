"""The probe and the classifier: probes, the encoder + head, tokenised inputs, training, checkpoints.

Computation layer: explicit inputs, values out; never imports the store or the jobs."""
