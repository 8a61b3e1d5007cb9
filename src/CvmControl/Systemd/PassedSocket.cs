namespace CvmControl.Systemd;

/// <summary>A socket the service manager passed: its file descriptor and, when given, its FileDescriptorName=.</summary>
internal sealed record PassedSocket(int Fd, string? Name);
