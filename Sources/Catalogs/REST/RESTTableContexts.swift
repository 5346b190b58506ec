import IcebergCore

/// What a REST catalog keeps per loaded table: the FileIO its `config` asked for and its own bearer token.
actor RESTTableContexts {
    struct Context: Sendable {
        var io: any FileIO
        var token: String?
    }

    private var contexts: [TableIdentifier: Context] = [:]

    func context(_ identifier: TableIdentifier) -> Context? { contexts[identifier] }
    func set(_ identifier: TableIdentifier, _ context: Context) { contexts[identifier] = context }
    func remove(_ identifier: TableIdentifier) { contexts[identifier] = nil }
}
