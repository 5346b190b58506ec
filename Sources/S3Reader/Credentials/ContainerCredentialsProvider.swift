import Foundation

/// EKS Pod Identity and ECS task roles: credentials served over HTTP by an agent. The URL is
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, or `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`;
/// the Authorization header comes from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read each time, Pod
/// Identity rotates it) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialsProvider: CredentialsProvider {
    public let url: String
    let tokenFile: String?
    let token: String?
    let transport: any HTTPTransport

    /// Nil when neither URI variable is set.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment, transport: any HTTPTransport = CurlTransport.shared) {
        if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            url = full
        } else if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2" + relative
        } else {
            return nil
        }
        tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        self.transport = transport
    }

    public func credentials() async throws -> AWSCredentials {
        var headers: [(String, String)] = []
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw S3Error(code: "NoCredentials", message: "cannot read the container authorization token file \(tokenFile)")
            }
            headers.append(("Authorization", text.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token {
            headers.append(("Authorization", token))
        }
        let response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: headers))
        return try JSONCredentials.parse(response, source: "container credentials endpoint \(url)")
    }
}

/// The JSON document ECS, EKS Pod Identity and IMDS answer with.
enum JSONCredentials {
    static func parse(_ response: HTTPResponse, source: String) throws -> AWSCredentials {
        guard response.status == 200 else {
            throw S3Error(code: "NoCredentials", message: "\(source) answered HTTP \(response.status)", status: response.status, isRetryable: response.status >= 500)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let id = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String
        else {
            throw S3Error(code: "NoCredentials", message: "\(source) answered without AccessKeyId and SecretAccessKey")
        }
        return AWSCredentials(
            accessKeyID: id, secretAccessKey: secret, sessionToken: object["Token"] as? String,
            expiration: (object["Expiration"] as? String).flatMap(CredentialDates.parse))
    }
}

/// EC2 instance roles through IMDSv2: a session token (PUT), the role's name, then its credentials.
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the address; `AWS_EC2_METADATA_DISABLED=true` turns it off.
public struct InstanceMetadataCredentialsProvider: CredentialsProvider {
    public let endpoint: String
    let transport: any HTTPTransport

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, transport: (any HTTPTransport)? = nil) {
        var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        // Off EC2 the address does not answer: fail fast rather than wait for the default timeouts.
        var quick = CurlTransport.Configuration()
        quick.connectTimeout = 1
        quick.idleTimeout = 2
        self.transport = transport ?? CurlTransport(configuration: quick)
    }

    static func isDisabled(_ environment: [String: String]) -> Bool { environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" }

    public func credentials() async throws -> AWSCredentials {
        let tokenResponse = try await transport.send(HTTPRequest(
            method: "PUT", url: endpoint + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")]))
        guard tokenResponse.status == 200 else {
            throw S3Error(code: "NoCredentials", message: "IMDSv2 at \(endpoint) refused a session token (HTTP \(tokenResponse.status))", status: tokenResponse.status)
        }
        let header = [("X-aws-ec2-metadata-token", String(decoding: tokenResponse.body, as: UTF8.self))]
        let roles = try await transport.send(HTTPRequest(method: "GET", url: endpoint + "/latest/meta-data/iam/security-credentials/", headers: header))
        guard roles.status == 200, let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first else {
            throw S3Error(code: "NoCredentials", message: "IMDS at \(endpoint): the instance has no IAM role (HTTP \(roles.status))", status: roles.status)
        }
        let response = try await transport.send(HTTPRequest(method: "GET", url: endpoint + "/latest/meta-data/iam/security-credentials/\(role)", headers: header))
        return try JSONCredentials.parse(response, source: "IMDS role \(role)")
    }
}
