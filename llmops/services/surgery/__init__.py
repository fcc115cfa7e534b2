"""Model surgery: LoRA merge, mergekit merges, checkpoint selection, weight averaging and compression.

Every operation is a job whose output is written to a temporary folder, moved into place when complete and only
then registered as a `merged` version whose lineage names its inputs and its recipe (see outputs.py).
"""
