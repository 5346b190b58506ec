import Foundation

/// Keeps the credentials a provider returned and asks again only when they come within `refreshBefore`
/// of expiring; concurrent callers share one refresh.
///
/// ```swift
/// let cached = CachingCredentialsProvider(WebIdentityCredentialsProvider(environment: env)!)
/// ```
public actor CachingCredentialsProvider: CredentialsProvider {
    let inner: any CredentialsProvider
    let refreshBefore: TimeInterval
    let clock: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var refreshing: Task<AWSCredentials, any Error>?

    public init(_ inner: any CredentialsProvider, refreshBefore: TimeInterval = 300, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.inner = inner
        self.refreshBefore = refreshBefore
        self.clock = clock
    }

    public func credentials() async throws -> AWSCredentials {
        if let cached, cached.expiration.map({ $0.timeIntervalSince(clock()) > refreshBefore }) ?? true { return cached }
        if let refreshing { return try await refreshing.value }
        let task = Task { try await inner.credentials() }
        refreshing = task
        defer { refreshing = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }
}

/// The AWS default credential chain, in the SDKs' order: environment (`AWS_ACCESS_KEY_ID` ...), shared
/// `credentials`/`config` files (`AWS_PROFILE`), web identity (IRSA: `AWS_ROLE_ARN` +
/// `AWS_WEB_IDENTITY_TOKEN_FILE`), container credentials (EKS Pod Identity, ECS), then IMDSv2 (EC2). The
/// first source that is configured and answers is used from then on, its credentials cached and refreshed
/// five minutes before they expire. Explicit credentials skip the chain: pass a ``StaticCredentialsProvider``.
///
/// ```swift
/// let s3 = S3Client(configuration: S3Configuration(region: "eu-west-1"), credentials: DefaultCredentialsChain())
/// ```
public actor DefaultCredentialsChain: CredentialsProvider {
    let environment: [String: String]
    let transport: any HTTPTransport
    private var chosen: CachingCredentialsProvider?
    /// The source in use, once found (`environment`, `profile default`, `web identity`, `container`, `imds`).
    public private(set) var sourceName: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, transport: any HTTPTransport = CurlTransport.shared) {
        self.environment = environment
        self.transport = transport
    }

    public func credentials() async throws -> AWSCredentials {
        if let chosen { return try await chosen.credentials() }
        var tried: [String] = []
        for (name, provider) in candidates() {
            do {
                let cache = CachingCredentialsProvider(provider)
                let credentials = try await cache.credentials()
                chosen = cache
                sourceName = name
                return credentials
            } catch {
                // Errors never hold secrets (S3Error messages name files and endpoints only).
                tried.append("\(name): \(error)")
            }
        }
        throw S3Error(code: "NoCredentials", message: "no AWS credentials found; tried " + (tried.isEmpty ? "nothing configured" : tried.joined(separator: "; ")))
    }

    private func candidates() -> [(String, any CredentialsProvider)] {
        var list: [(String, any CredentialsProvider)] = []
        if environment["AWS_ACCESS_KEY_ID"].map({ !$0.isEmpty }) ?? false {
            list.append(("environment", EnvironmentCredentialsProvider(environment: environment)))
        }
        if environment["AWS_PROFILE"] != nil || ProfileCredentialsProvider.filesExist(environment: environment),
            let profile = try? ProfileCredentialsProvider(environment: environment, transport: transport)
        {
            list.append(("profile \(profile.profile)", profile))
        }
        if let webIdentity = WebIdentityCredentialsProvider(environment: environment, transport: transport) {
            list.append(("web identity", webIdentity))
        }
        if let container = ContainerCredentialsProvider(environment: environment, transport: transport) {
            list.append(("container", container))
        }
        if !InstanceMetadataCredentialsProvider.isDisabled(environment) {
            list.append(("imds", InstanceMetadataCredentialsProvider(environment: environment)))
        }
        return list
    }
}
