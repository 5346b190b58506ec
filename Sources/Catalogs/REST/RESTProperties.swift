/// The catalog properties ``RESTCatalog`` reads, named as Iceberg's Java `RESTCatalog` and PyIceberg's
/// `RestCatalog` name them, so one configuration serves all three.
public enum RESTProperties {
    /// Asked of `GET /v1/config` as the `warehouse` query parameter; the server may answer with a `prefix`.
    public static let warehouse = "warehouse"
    /// Set by the server's config: the path segment after `/v1/` in every catalog route.
    public static let prefix = "prefix"
    /// The base URL; a server override replaces the one the catalog was created with.
    public static let uri = "uri"
    /// OAuth2 client credentials, `client_id:client_secret` (or just the secret).
    public static let credential = "credential"
    /// A bearer token sent as is (`Authorization: Bearer <token>`); no OAuth2 exchange.
    public static let token = "token"
    /// The OAuth2 scope asked for with client credentials (default `catalog`).
    public static let scope = "scope"
    /// The OAuth2 token endpoint: absolute, or relative to the catalog URL (default `v1/oauth/tokens`).
    public static let oauth2ServerURI = "oauth2-server-uri"
    /// `true` to sign every request with AWS SigV4 (API Gateway, S3 Tables, Glue's REST endpoint).
    public static let sigV4Enabled = "rest.sigv4-enabled"
    /// The SigV4 region (default `client.region`, then `AWS_REGION`, then `us-east-1`).
    public static let signingRegion = "rest.signing-region"
    /// The SigV4 service name (default `execute-api`).
    public static let signingName = "rest.signing-name"
    /// The access key of static AWS credentials for SigV4 signing (otherwise the caller's provider, else the
    /// AWS default chain).
    public static let accessKeyID = "rest.access-key-id"
    /// The secret key that goes with ``accessKeyID``.
    public static let secretAccessKey = "rest.secret-access-key"
    /// The session token of temporary credentials, with ``accessKeyID``.
    public static let sessionToken = "rest.session-token"
    /// Set by the server's config: the namespace separator in paths, URL-encoded (default `%1F`).
    public static let namespaceSeparator = "namespace-separator"
    /// Page size asked of list routes (`pageSize`); unset lets the server choose.
    public static let pageSize = "rest.page-size"
    /// Properties `header.<Name>` add the HTTP header `<Name>` to every request.
    public static let headerPrefix = "header."

    /// The S3 endpoint of the tables' FileIO (`http://minio:9000`); AWS when unset. The caller's property,
    /// the server's config or a table's `config` may set it (and the other `s3.` properties), the later
    /// winning.
    public static let s3Endpoint = "s3.endpoint"
    /// The S3 region of the tables' FileIO (PyIceberg's name).
    public static let s3Region = "s3.region"
    /// The AWS region (Java's name): the S3 region when `s3.region` is unset, and the SigV4 region when
    /// `rest.signing-region` is unset.
    public static let clientRegion = "client.region"
    /// The access key a server vends for a table's files (otherwise the caller's credentials).
    public static let s3AccessKeyID = "s3.access-key-id"
    /// The secret key that goes with ``s3AccessKeyID``.
    public static let s3SecretAccessKey = "s3.secret-access-key"
    /// The session token that goes with ``s3AccessKeyID``.
    public static let s3SessionToken = "s3.session-token"
    /// `true` for path-style S3 requests (`host/bucket/key`); the default with a custom endpoint.
    public static let s3PathStyleAccess = "s3.path-style-access"
}
