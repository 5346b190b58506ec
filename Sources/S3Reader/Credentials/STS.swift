import Foundation

/// The two STS calls the credential chain needs, over our own transport: AssumeRoleWithWebIdentity
/// (unsigned: the token is the proof) and AssumeRole (SigV4-signed with the source credentials). The
/// endpoint is `AWS_ENDPOINT_URL_STS` (or `AWS_ENDPOINT_URL`) when set, else the regional one.
struct STS {
    let endpoint: String
    let region: String
    let transport: any HTTPTransport

    init(region: String, environment: [String: String], transport: any HTTPTransport) {
        self.region = region
        endpoint = environment["AWS_ENDPOINT_URL_STS"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://sts.\(region).amazonaws.com"
        self.transport = transport
    }

    func assumeRoleWithWebIdentity(_ role: String, sessionName: String, token: String) async throws -> AWSCredentials {
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role), ("RoleSessionName", sessionName),
            ("WebIdentityToken", token),
        ]
        let body = Array(SigV4Signer.canonicalQuery(form).utf8)
        let response = try await transport.send(HTTPRequest(
            method: "POST", url: endpoint + "/", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: body))
        return try Self.credentials(from: response, action: "AssumeRoleWithWebIdentity", role: role)
    }

    func assumeRole(_ role: String, sessionName: String, with source: AWSCredentials) async throws -> AWSCredentials {
        let form = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", role), ("RoleSessionName", sessionName)]
        let body = Array(SigV4Signer.canonicalQuery(form).utf8)
        guard let url = URL(string: endpoint), let host = url.host else {
            throw S3Error(code: "InvalidEndpoint", message: "STS endpoint \(endpoint) is not a URL")
        }
        let hostHeader = url.port.map { "\(host):\($0)" } ?? host
        let headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        let request = SignableRequest(method: "POST", host: hostHeader, path: "/", headers: headers, payload: .hashing(body))
        let signed = SigV4Signer(region: region, service: "sts").sign(request, credentials: source, date: Date())
        let response = try await transport.send(HTTPRequest(method: "POST", url: endpoint + "/", headers: headers + signed, body: body))
        return try Self.credentials(from: response, action: "AssumeRole", role: role)
    }

    /// The credentials in an STS answer; errors carry STS's code and message, never the request's token.
    static func credentials(from response: HTTPResponse, action: String, role: String) throws -> AWSCredentials {
        let xml = XMLTree.parse(response.body)
        guard response.status == 200, let result = xml?.child("\(action)Result")?.child("Credentials"),
            let id = result.value("AccessKeyId"), let secret = result.value("SecretAccessKey")
        else {
            let error = xml?.child("Error")
            throw S3Error(
                code: error?.value("Code") ?? "STSFailed", message: "STS \(action) for \(role): \(error?.value("Message") ?? "HTTP \(response.status)")",
                requestID: xml?.value("RequestId"), status: response.status, isRetryable: response.status >= 500)
        }
        return AWSCredentials(
            accessKeyID: id, secretAccessKey: secret, sessionToken: result.value("SessionToken"),
            expiration: result.value("Expiration").flatMap(CredentialDates.parse))
    }
}

/// ISO-8601 expirations as STS, ECS/EKS and IMDS give them.
enum CredentialDates {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// IRSA on EKS: `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE` (the projected service-account token,
/// re-read at every refresh because the kubelet rotates it), exchanged at STS for temporary credentials.
public struct WebIdentityCredentialsProvider: CredentialsProvider {
    public let roleARN: String
    public let tokenFile: String
    public let sessionName: String
    let sts: STS

    public init(
        roleARN: String, tokenFile: String, sessionName: String? = nil, region: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, transport: any HTTPTransport = CurlTransport.shared
    ) {
        self.roleARN = roleARN
        self.tokenFile = tokenFile
        self.sessionName = sessionName ?? environment["AWS_ROLE_SESSION_NAME"] ?? "iceberg-ingest-\(Int(Date().timeIntervalSince1970))"
        sts = STS(region: region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1", environment: environment, transport: transport)
    }

    /// From `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`, or nil when they are not both set.
    public init?(environment: [String: String], transport: any HTTPTransport = CurlTransport.shared) {
        guard let role = environment["AWS_ROLE_ARN"], !role.isEmpty, let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !file.isEmpty else { return nil }
        self.init(roleARN: role, tokenFile: file, environment: environment, transport: transport)
    }

    public func credentials() async throws -> AWSCredentials {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw S3Error(code: "NoCredentials", message: "cannot read the web identity token file \(tokenFile)")
        }
        return try await sts.assumeRoleWithWebIdentity(roleARN, sessionName: sessionName, token: token.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
