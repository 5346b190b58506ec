/// Reads a ``JSONValue`` with the path of every value, so that errors name the file and the field
/// (e.g. `metadata/00001-x.metadata.json: schemas[0].fields[2].type: expected a string`).
package struct JSONReader {
    package let value: JSONValue
    package let path: String
    package let source: String

    package init(_ value: JSONValue, source: String, path: String = "") {
        self.value = value
        self.source = source
        self.path = path
    }

    package func error(_ message: String) -> IcebergError {
        IcebergError(.invalidMetadata, "\(source): \(path.isEmpty ? "document" : path): \(message)")
    }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`, which must be present (null counts as absent).
    package func required(_ key: String) throws -> JSONReader {
        guard case .object = value else { throw error("expected an object") }
        guard let child = value[key], child != .null else { throw error("missing required field '\(key)'") }
        return JSONReader(child, source: source, path: childPath(key))
    }

    /// The value of `key`, or nil when absent or null.
    package func optional(_ key: String) throws -> JSONReader? {
        guard case .object = value else { throw error("expected an object") }
        guard let child = value[key], child != .null else { return nil }
        return JSONReader(child, source: source, path: childPath(key))
    }

    package var int64: Int64 {
        get throws {
            switch value {
            case .int(let i): return i
            case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
            default: throw error("expected an integer")
            }
        }
    }

    package var int: Int { get throws { Int(try int64) } }

    package var string: String {
        get throws {
            guard case .string(let s) = value else { throw error("expected a string") }
            return s
        }
    }

    package var bool: Bool {
        get throws {
            guard case .bool(let b) = value else { throw error("expected true or false") }
            return b
        }
    }

    package var array: [JSONReader] {
        get throws {
            guard case .array(let values) = value else { throw error("expected an array") }
            return values.enumerated().map { JSONReader($1, source: source, path: "\(path)[\($0)]") }
        }
    }

    /// The object's members in order.
    package var members: [(String, JSONReader)] {
        get throws {
            guard case .object(let pairs) = value else { throw error("expected an object") }
            return pairs.map { ($0.0, JSONReader($0.1, source: source, path: childPath($0.0))) }
        }
    }

    /// An object of string values (table properties, snapshot summaries).
    package var stringMap: [String: String] {
        get throws {
            var result: [String: String] = [:]
            for (key, member) in try members {
                switch member.value {
                case .string(let s): result[key] = s
                case .int(let i): result[key] = String(i)  // tolerated: some writers emit numbers
                case .bool(let b): result[key] = String(b)
                default: throw member.error("expected a string value")
                }
            }
            return result
        }
    }
}

extension Dictionary where Key == String, Value == String {
    /// A JSON object with keys in sorted order (stable output).
    package var jsonObject: JSONValue { .object(sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }
}
