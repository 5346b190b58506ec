import IcebergCore
import S3Reader

/// The spec's `IcebergErrorResponse` (`{"error": {"message", "type", "code"}}`) and how an HTTP failure of
/// each route becomes an ``IcebergError``.
struct RESTErrorModel: Sendable {
    var message: String
    var type: String
    var status: Int

    /// Reads the error body of `response`; a body that is not the spec's shape still gives the status.
    init(_ response: HTTPResponse) {
        status = response.status
        let json = try? JSONValue.parse(response.body, source: "error response")
        if case .object = json?["error"] {
            message = RESTJSON.string(json?["error"]?["message"]) ?? ""
            type = RESTJSON.string(json?["error"]?["type"]) ?? ""
        } else if let oauth = RESTJSON.string(json?["error"]) {
            // An OAuth2 error body: {"error": "invalid_client", "error_description": "..."}.
            type = oauth
            message = RESTJSON.string(json?["error_description"]) ?? ""
        } else {
            type = ""
            message = String(decoding: response.body.prefix(300), as: UTF8.self)
        }
    }

    var summary: String {
        var text = "HTTP \(status)"
        if !type.isEmpty { text += " \(type)" }
        if !message.isEmpty { text += ": \(message)" }
        return text
    }

    /// What a route was doing, for mapping statuses the spec gives route-specific meanings.
    enum Route {
        case read, createNamespace, dropNamespace, createTable, dropTable, commit, token
    }

    /// The error for a failed response of `route`; `subject` names the table or namespace.
    func error(route: Route, subject: String) -> IcebergError {
        let detail = "\(subject): \(summary)"
        switch status {
        case 400, 422: return IcebergError(.invalidArgument, "REST catalog rejected the request for \(detail)")
        case 401, 403, 419: return IcebergError(.catalog, "REST catalog denied access to \(detail)")
        case 404: return IcebergError(.notFound, "\(subject) does not exist (\(summary))")
        case 406: return IcebergError(.unsupported, "REST catalog does not support the operation on \(detail)")
        case 409:
            switch route {
            case .commit: return IcebergError(.commitConflict, "commit to \(subject) conflicts: \(summary)")
            case .dropNamespace: return IcebergError(.invalidArgument, "namespace \(subject) is not empty (\(summary))")
            default: return IcebergError(.alreadyExists, "\(subject) already exists (\(summary))")
            }
        case 503:
            // The service refused the request before acting on it: the same request may succeed later.
            return IcebergError(.catalog, "REST catalog unavailable for \(detail)", isRetryable: true)
        case 500...599 where route == .commit:
            return IcebergError(
                .commitStateUnknown,
                "commit to \(subject): the commit state is unknown (\(summary)); reload the table to see whether it landed",
                isRetryable: true)
        case 500...599:
            return IcebergError(.catalog, "REST catalog failed for \(detail)", isRetryable: true)
        default:
            return IcebergError(.catalog, "REST catalog answered \(detail)")
        }
    }
}
