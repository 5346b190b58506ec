// Tests of the S3Reader target; they arrive with the target's code (see the open issues).
