"""Learning from unlabelled music: a corpus builder, peer teachers, distillation and linear probes."""
