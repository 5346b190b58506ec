import Foundation
import IcebergCore
import S3Reader

/// The AWS Glue Data Catalog's JSON 1.1 API: a POST to `/` with `X-Amz-Target: AWSGlue.<Operation>`,
/// SigV4-signed for service `glue`, sent through S3Reader's ``HTTPTransport`` with its credential providers.
///
/// Throttling, 5xx answers and dropped connections are retried with S3Reader's ``RetryPolicy`` (backoff with
/// full jitter), and so is a request refused because this machine's clock is off (then signed with Glue's
/// time, ``ClockSkew``). Glue's error `__type` becomes an ``IcebergError`` code: `EntityNotFoundException` is
/// `.notFound`, `AlreadyExistsException` `.alreadyExists`, `ConcurrentModificationException`
/// `.commitConflict`, `InvalidInputException` `.invalidArgument`, anything else `.catalog`. Messages name the
/// operation, the database or table, Glue's type and message and the request id; never credentials.
package struct GlueClient: Sendable {
    package let region: String
    /// `https://glue.<region>.amazonaws.com`, or the override (moto, a VPC endpoint, a Glue-compatible service).
    package let endpoint: String
    /// Another account's catalog (`CatalogId` on every call); nil for the caller's own.
    package let catalogID: String?
    let credentials: any CredentialsProvider
    let transport: any HTTPTransport
    let retryPolicy: RetryPolicy
    let clock: @Sendable () -> Date
    /// How far Glue's clock is from `clock`, learned from a refusal of a request signed at the wrong time.
    let skew = ClockSkew()

    package init(
        region: String, endpoint: String?, catalogID: String?, credentials: any CredentialsProvider, transport: any HTTPTransport,
        retryPolicy: RetryPolicy, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.region = region
        var url = endpoint ?? "https://glue.\(region).amazonaws.com"
        while url.hasSuffix("/") { url.removeLast() }
        self.endpoint = url
        self.catalogID = catalogID
        self.credentials = credentials
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.clock = clock
    }

    /// One failed call as Glue describes it.
    struct Failure: Error {
        var type: String
        var message: String
        var status: Int
        var requestID: String?
        var isRetryable: Bool
    }

    /// Calls `operation` with the JSON members `body` (plus `CatalogId` when set); returns the answer's JSON.
    /// `object` names the database or table for error messages.
    package func call(_ operation: String, _ body: [(String, JSONValue)], object: String) async throws -> JSONValue {
        var members = body
        if let catalogID { members.insert(("CatalogId", .string(catalogID)), at: 0) }
        let bytes = Array(JSONValue.object(members).serialized().utf8)
        var attempt = 1
        while true {
            do {
                return try await send(operation, bytes)
            } catch let failure as Failure {
                guard failure.isRetryable, attempt < retryPolicy.maxAttempts else { throw Self.error(failure, operation: operation, object: object) }
            } catch let error as S3Error {
                // The transport's own failures (connection refused, timeout) come as S3Error with status 0.
                let failure = Failure(type: error.code, message: error.message, status: error.status, requestID: nil, isRetryable: error.isRetryable)
                guard failure.isRetryable, attempt < retryPolicy.maxAttempts else { throw Self.error(failure, operation: operation, object: object) }
            }
            let ceiling = retryPolicy.ceiling(forRetry: attempt)
            let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
            try await Task.sleep(nanoseconds: UInt64(Int64.random(in: 0...max(0, nanos))))
            attempt += 1
        }
    }

    private func send(_ operation: String, _ body: [UInt8]) async throws -> JSONValue {
        try Task.checkCancellation()
        var scheme = "https", host = endpoint
        if let range = endpoint.range(of: "://") {
            scheme = String(endpoint[..<range.lowerBound])
            host = String(endpoint[range.upperBound...])
        }
        var path = "/"
        if let slash = host.firstIndex(of: "/") {
            path = String(host[slash...]) + (host.hasSuffix("/") ? "" : "/")
            host = String(host[..<slash])
        }
        let headers = [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AWSGlue.\(operation)")]
        let request = SignableRequest(method: "POST", host: host, path: path, headers: headers, payload: .hashing(body))
        let signed = SigV4Signer(region: region, service: "glue").sign(
            request, credentials: try await credentials.credentials(), date: clock().addingTimeInterval(skew.seconds))
        let response = try await transport.send(HTTPRequest(method: "POST", url: "\(scheme)://\(host)\(path)", headers: headers + signed, body: body))
        let json = response.body.isEmpty ? JSONValue.object([]) : (try? JSONValue.parse(response.body, source: "Glue \(operation) response"))
        guard (200..<300).contains(response.status) else {
            // `__type` is `EntityNotFoundException` or `com.amazonaws...#EntityNotFoundException`.
            var type = json?["__type"].flatMap(\.glueString) ?? response.headers["x-amzn-errortype"] ?? "HTTP\(response.status)"
            if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
            if let colon = type.firstIndex(of: ":") { type = String(type[..<colon]) }
            let message = json?["message"].flatMap(\.glueString) ?? json?["Message"].flatMap(\.glueString) ?? "HTTP \(response.status)"
            // A request signed more than 15 minutes from Glue's clock is refused ("Signature expired"): with
            // Glue's time from the answer, a retry goes through (it was refused before it was applied).
            let skewed = Self.clockSkewTypes.contains(type) && skew.learn(serverTime: response.headers["date"].flatMap(ClockSkew.httpDate), localNow: clock())
            let retryable = response.status >= 500 || skewed
                || ["ThrottlingException", "InternalServiceException", "OperationTimeoutException", "ServiceUnavailableException"].contains(type)
            throw Failure(type: type, message: message, status: response.status, requestID: response.headers["x-amzn-requestid"], isRetryable: retryable)
        }
        guard let json else {
            throw IcebergError(.catalog, "Glue \(operation) answered HTTP \(response.status) with a body that is not JSON")
        }
        return json
    }

    /// The error types AWS answers a request signed at the wrong time with (the Java SDK's list).
    static let clockSkewTypes: Set<String> = [
        "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture", "AuthFailure",
    ]

    static func error(_ failure: Failure, operation: String, object: String) -> IcebergError {
        let code: IcebergError.Code =
            switch failure.type {
            case "EntityNotFoundException": .notFound
            case "AlreadyExistsException": .alreadyExists
            case "ConcurrentModificationException": .commitConflict
            case "InvalidInputException": .invalidArgument
            default: .catalog
            }
        var text = "Glue \(operation) on \(object): \(failure.type): \(failure.message)"
        if let requestID = failure.requestID { text += " [request \(requestID)]" }
        return IcebergError(code, text, isRetryable: code == .commitConflict || failure.isRetryable)
    }
}

extension JSONValue {
    /// The text of a string value.
    var glueString: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The members of an object value whose values are strings (Glue's `Parameters` maps).
    var glueParameters: [String: String] {
        guard case .object(let pairs) = self else { return [:] }
        var map: [String: String] = [:]
        for (key, value) in pairs { if case .string(let text) = value { map[key] = text } }
        return map
    }
}
