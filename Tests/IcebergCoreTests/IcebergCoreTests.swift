// Tests of the IcebergCore target; they arrive with the target's code (see the open issues).
