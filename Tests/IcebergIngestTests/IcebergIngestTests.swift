// Tests of the IcebergIngest target; they arrive with the target's code (see the open issues).
