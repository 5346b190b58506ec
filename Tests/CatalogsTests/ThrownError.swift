import IcebergCore

/// The ``IcebergError`` a call throws, or nil when it returns or throws another error.
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

