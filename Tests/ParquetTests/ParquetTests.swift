// Tests of the Parquet target; they arrive with the target's code (see the open issues).
