// S3Reader: an S3 client over libcurl with SigV4, the AWS credential chain and time-partitioned listing.
