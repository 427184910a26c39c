/// The OpenAPI document of the API (`api/openapi.yaml`), put into the binary at build time, so
/// that `/openapi.yaml` serves exactly the contract in the repository with no file beside the
/// binary.
public enum OpenAPIDocument {
    /// The document's bytes, as in `api/openapi.yaml`.
    public static let bytes: [UInt8] = PackageResources.openapi_yaml
}
