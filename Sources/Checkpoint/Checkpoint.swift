// Checkpoint: the durable, exactly-once record of ingested files, committed with the data.
