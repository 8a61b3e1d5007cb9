namespace CvmControl.Identity;

internal static class IdentityServices
{
    /// <summary>The TLS room: what was loaded at start, the per-handshake endpoint, reloading and expiry warnings.</summary>
    public static IServiceCollection AddTlsIdentity(this IServiceCollection services, TlsSetup setup)
    {
        services.AddSingleton(setup);
        services.AddSingleton(setup.Server);
        services.AddSingleton<ICredentialFiles>(CredentialFiles.Instance);
        services.AddSingleton(sp => new ClientAuthenticator(setup.Options.Clients, setup.Bundle, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TlsEndpoint>();
        services.AddSingleton<CredentialReloading>();
        services.AddHostedService(sp => sp.GetRequiredService<CredentialReloading>());
        services.AddSingleton<ExpiryWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiryWatch>());
        return services;
    }
}
