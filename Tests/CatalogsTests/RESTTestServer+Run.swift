import IcebergCore
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

/// The ``IcebergCore/IcebergError`` a call throws, or nil when it does not throw one.
func icebergError(_ body: () async throws -> Void) async -> IcebergError? {
    do {
        try await body()
        return nil
    } catch let error as IcebergError {
        return error
    } catch {
        return nil
    }
}

