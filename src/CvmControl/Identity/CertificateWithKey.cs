using System.Security.Cryptography.X509Certificates;

namespace CvmControl.Identity;

/// <summary>A leaf certificate holding its private key, and the intermediates sent after it, leaf-side first.</summary>
internal sealed record CertificateWithKey(X509Certificate2 Certificate, IReadOnlyList<X509Certificate2> Intermediates);
