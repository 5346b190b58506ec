import Testing

extension RESTTestServer {
    /// Runs `body` with the server, expects that every request it received followed the REST spec, and
    /// stops the server whatever happens.
    func run<T>(_ body: (RESTTestServer) async throws -> T) async throws -> T {
        defer { stop() }
        let result = try await body(self)
        let violations = try await violations()
        #expect(violations.isEmpty, "requests outside the REST spec:\n\(violations.joined(separator: "\n"))")
        return result
    }
}
