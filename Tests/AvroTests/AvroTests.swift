// Tests of the Avro target; they arrive with the target's code (see the open issues).
