import S3Reader

extension S3TestEndpoint {
    /// A client for this endpoint with its credentials (through `transport`, the real one by default).
    public func client(transport: any HTTPTransport = CurlTransport.shared) -> S3Client {
        S3Client(
            configuration: S3Configuration(region: region, endpoint: endpoint),
            credentials: StaticCredentialsProvider(AWSCredentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)),
            transport: transport)
    }
}
