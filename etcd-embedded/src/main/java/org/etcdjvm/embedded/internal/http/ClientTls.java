package org.etcdjvm.embedded.internal.http;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.cert.X509Certificate;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.etcdjvm.embedded.internal.tls.TlsMaterial;
import org.etcdjvm.embedded.internal.tls.TlsMaterialException;

/**
 * HTTPS on the client port: the server side of TLS 1.3 and 1.2, asking clients for a certificate
 * when there are CAs to verify it with. Netty's default provider: the JDK's, or OpenSSL (BoringSSL)
 * when {@code netty-tcnative} is on the class path, as Atomix's messaging TLS chooses too.
 * Immutable and thread-safe.
 */
public final class ClientTls {
  private final SslContext context;
  private final boolean verifiesClients;

  private ClientTls(SslContext context, boolean verifiesClients) {
    this.context = context;
    this.verifiesClients = verifiesClients;
  }

  /**
   * Serves {@code material}'s key and chain; with trusted CAs, requires and verifies a client
   * certificate (etcd's {@code -clientCAFile}).
   */
  public static ClientTls of(TlsMaterial material) throws TlsMaterialException {
    boolean verify = !material.trusted().isEmpty();
    try {
      SslContextBuilder builder = SslContextBuilder
          .forServer(material.key(), material.chain().toArray(X509Certificate[]::new))
          .protocols("TLSv1.3", "TLSv1.2");
      if (verify) {
        builder.trustManager(material.trusted().toArray(X509Certificate[]::new)).clientAuth(ClientAuth.REQUIRE);
      }
      return new ClientTls(builder.build(), verify);
    } catch (SSLException | RuntimeException e) {
      throw new TlsMaterialException("the client certificate and key cannot be used for TLS: " + e.getMessage(), e);
    }
  }

  /** An application's own context, used as it is; clients must present a certificate if {@code requireClientCertificates}. */
  public static ClientTls of(SSLContext context, boolean requireClientCertificates) {
    Objects.requireNonNull(context, "context == null");
    return new ClientTls(new JdkSslContext(context, false, null, IdentityCipherSuiteFilter.INSTANCE, null,
        requireClientCertificates ? ClientAuth.REQUIRE : ClientAuth.NONE, null, false), requireClientCertificates);
  }

  SslContext context() {
    return context;
  }

  /** Whether clients must present a certificate. */
  public boolean verifiesClients() {
    return verifiesClients;
  }
}
