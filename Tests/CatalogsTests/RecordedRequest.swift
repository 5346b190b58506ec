import IcebergCore

/// One request as the test server recorded it.
struct RecordedRequest {
    var method: String
    var path: String
    var query: [(String, String)]
    var status: Int
    var bearer: String?
    var originalAuthorization: String?

    init(json: JSONValue) {
        func string(_ key: String) -> String? { if case .string(let s)? = json[key] { return s }; return nil }
        method = string("method") ?? ""
        path = string("path") ?? ""
        if case .array(let pairs)? = json["query"] {
            query = pairs.compactMap {
                guard case .array(let kv) = $0, kv.count == 2, case .string(let k) = kv[0], case .string(let v) = kv[1] else { return nil }
                return (k, v)
            }
        } else {
            query = []
        }
        if case .int(let s)? = json["status"] { status = Int(s) } else { status = 0 }
        bearer = string("bearer")
        originalAuthorization = string("original_authorization")
    }

    func parameter(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
}
