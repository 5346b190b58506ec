import IcebergCore

/// Namespaces: `POST /namespaces`, `GET /namespaces?parent=`, `GET` and `DELETE /namespaces/{namespace}`.
extension RESTCatalog {
    static func describe(_ namespace: [String]) -> String { "namespace \(namespace.joined(separator: "."))" }

    /// Creates `namespace` with `properties`. Throws `.alreadyExists` when it exists, `.notFound` when its
    /// parent does not.
    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        let body = JSONValue.object([
            ("namespace", .array(namespace.map { .string($0) })), ("properties", RESTJSON.object(properties)),
        ])
        let subject = Self.describe(namespace)
        let response = try await client.send("POST", paths.namespaces, body: .json(body), subject: subject, unknownOutcome: true)
        guard response.status == 200 else { throw RESTErrorModel(response).error(route: .createNamespace, subject: subject) }
    }

    /// Every namespace at every level, parents before their children, in the server's order per level.
    /// Asks level by level (`parent=`), following the server's pages.
    public func listNamespaces() async throws -> [[String]] {
        var result: [[String]] = []
        var seen: Set<[String]> = []
        var pending: [[String]] = [[]]
        while !pending.isEmpty {
            let parent = pending.removeFirst()
            for child in try await listNamespaces(parent: parent)
            where child.count > parent.count && Array(child.prefix(parent.count)) == parent && seen.insert(child).inserted {
                result.append(child)
                pending.append(child)
            }
        }
        return result
    }

    /// The namespaces directly under `parent` (the top level for `[]`), all pages of them.
    public func listNamespaces(parent: [String]) async throws -> [[String]] {
        let query = parent.isEmpty ? [] : [("parent", paths.parentParameter(parent))]
        let subject = parent.isEmpty ? "namespaces" : "namespaces under \(parent.joined(separator: "."))"
        var namespaces: [[String]] = []
        for page in try await pages(paths.namespaces, query: query, subject: subject) {
            guard case .array(let items)? = page["namespaces"] else { continue }
            for item in items {
                guard let namespace = RESTJSON.stringArray(item) else {
                    throw IcebergError(.catalog, "REST catalog listed a namespace that is not an array of strings: \(item.serialized())")
                }
                namespaces.append(namespace)
            }
        }
        return namespaces
    }

    /// The namespace's properties. Throws `.notFound` when it does not exist.
    public func namespaceProperties(_ namespace: [String]) async throws -> [String: String] {
        let subject = Self.describe(namespace)
        let response = try await client.send("GET", paths.namespace(namespace), subject: subject)
        guard response.status == 200 else { throw RESTErrorModel(response).error(route: .read, subject: subject) }
        let json = try RESTJSON.parse(response.body, source: "GET namespace \(namespace.joined(separator: "."))")
        return RESTJSON.stringMap(json["properties"]) ?? [:]
    }

    /// Drops an empty namespace. Throws `.notFound` when it does not exist and `.invalidArgument` when it
    /// still holds tables.
    public func dropNamespace(_ namespace: [String]) async throws {
        let subject = Self.describe(namespace)
        let response = try await client.send("DELETE", paths.namespace(namespace), subject: subject)
        guard response.status == 204 || response.status == 200 else {
            throw RESTErrorModel(response).error(route: .dropNamespace, subject: subject)
        }
    }
}
