import Foundation
import IcebergCore
import Logging
import S3Reader

/// Sends REST catalog requests: JSON or form bodies, the bearer token (fixed or from OAuth2), SigV4 when
/// enabled, and retries where the spec allows them. Returns the response of any status; the caller maps
/// failures with ``RESTErrorModel``.
///
/// Retries, with exponential backoff and jitter, up to `maxAttempts` tries: 429 and 503 for every request
/// (the server did not act on it); 502, 504 and connection failures only for GET, HEAD and DELETE, whose
/// repetition is harmless. A 401 with an OAuth2 token fetches a new token and tries once more.
struct RESTClient: Sendable {
    enum Bearer: Sendable {
        case fixed(String)
        case oauth2(OAuth2Session)
    }

    let transport: any HTTPTransport
    let bearer: Bearer?
    let signer: RESTRequestSigner?
    let extraHeaders: [(String, String)]
    let maxAttempts: Int
    let logger: Logger
    /// How long a catalog server may stay silent before a request fails: longer than S3's 15 s, because a
    /// server that creates or commits a table writes its metadata to an object store first (a loaded one
    /// took 20 s in a test run), and a write that times out is a commit of unknown outcome.
    static let idleTimeoutSeconds = 60

    /// A request body.
    enum Body {
        case json(JSONValue)
        case form([(String, String)])
    }

    /// Sends one request. `token` (a table's own token from its `config`) replaces the catalog's bearer.
    /// `unknownOutcome`: a failure after the request may have reached the server means the outcome is not
    /// known (a commit, a create); such failures throw `.commitStateUnknown`, never retried here: the caller
    /// looks whether it took effect.
    func send(
        _ method: String, _ url: String, query: [(String, String)] = [], body: Body? = nil, headers: [(String, String)] = [],
        token: String? = nil, subject: String, unknownOutcome: Bool = false
    ) async throws -> HTTPResponse {
        let idempotent = ["GET", "HEAD", "DELETE"].contains(method)
        var attempt = 1
        var renewedToken = false
        while true {
            try Task.checkCancellation()
            let (request, sentToken) = try await build(method, url, query: query, body: body, headers: headers, token: token)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch {
                if unknownOutcome {
                    throw IcebergError(
                        .commitStateUnknown,
                        "\(method) for \(subject): the outcome is unknown: the connection failed (\(error)); look whether it took effect",
                        isRetryable: true)
                }
                if idempotent, attempt < maxAttempts {
                    try await backoff(attempt)
                    attempt += 1
                    continue
                }
                throw IcebergError(.catalog, "\(method) \(RESTPaths.split(url).path) for \(subject) failed: \(error)", isRetryable: true)
            }
            logger.debug("REST \(method) \(RESTPaths.split(url).path) -> \(response.status)")
            if response.status == 401, token == nil, case .oauth2(let session)? = bearer, let sentToken, !renewedToken {
                await session.invalidate(sentToken)
                renewedToken = true
                continue
            }
            let retryable = [429, 503].contains(response.status) || (idempotent && [502, 504].contains(response.status))
            if retryable, attempt < maxAttempts {
                try await backoff(attempt)
                attempt += 1
                continue
            }
            return response
        }
    }

    /// The request as sent, and the bearer token it carries.
    private func build(
        _ method: String, _ url: String, query: [(String, String)], body: Body?, headers: [(String, String)], token: String?
    ) async throws -> (HTTPRequest, String?) {
        var allHeaders = extraHeaders + headers
        allHeaders.append(("Accept", "application/json"))
        var bytes: [UInt8]?
        switch body {
        case .json(let json)?:
            bytes = Array(json.serialized().utf8)
            allHeaders.append(("Content-Type", "application/json"))
        case .form(let pairs)?:
            bytes = Array(pairs.map { "\(S3URIEncoding.queryComponent($0.0))=\(S3URIEncoding.queryComponent($0.1))" }.joined(separator: "&").utf8)
            allHeaders.append(("Content-Type", "application/x-www-form-urlencoded"))
        case nil:
            // A POST without a body still says it sends nothing.
            if method == "POST" { bytes = [] }
        }
        var sentToken: String?
        if let token {
            sentToken = token
        } else {
            switch bearer {
            case .fixed(let value)?: sentToken = value
            case .oauth2(let session)?: sentToken = try await session.token()
            case nil: break
            }
        }
        if let sentToken { allHeaders.append(("Authorization", "Bearer \(sentToken)")) }
        if let signer {
            allHeaders = try await signer.sign(method: method, url: url, query: query, headers: allHeaders, body: bytes)
        }
        let queryText = S3URIEncoding.canonicalQuery(query)
        var request = HTTPRequest(method: method, url: queryText.isEmpty ? url : "\(url)?\(queryText)", headers: allHeaders, body: bytes)
        request.idleTimeout = Self.idleTimeoutSeconds
        return (request, sentToken)
    }

    private func backoff(_ attempt: Int) async throws {
        let ceiling = min(2_000, 100 << min(attempt - 1, 10))
        try await Task.sleep(nanoseconds: UInt64(Int.random(in: ceiling / 2...ceiling)) * 1_000_000)
    }
}
