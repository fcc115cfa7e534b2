"""Remote execution: Ray, Slurm and SSH, each mirrored into the job table by a watcher the supervisor runs."""

# A watcher that lost its target exits with this status after writing why to LOST_FILE in the run folder;
# the supervisor then records the job LOST with that reason.
LOST_EXIT = 75
LOST_FILE = "target_lost.txt"
PLAN_FILE = "target_job.json"
REMOTE_FILE = "target_remote.json"
