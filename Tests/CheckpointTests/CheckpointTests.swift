// Tests of the Checkpoint target; they arrive with the target's code (see the open issues).
