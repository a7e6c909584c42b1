package org.etcdjvm.embedded;

import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.etcdjvm.embedded.internal.tls.PemFiles;
import org.etcdjvm.embedded.internal.tls.TlsMaterial;
import org.etcdjvm.embedded.internal.tls.TlsMaterialException;

/**
 * TLS for one of a node's ports: what the node presents (its certificate chain and private key)
 * and, optionally, the CA certificates the other side's certificate must chain to. Give it to
 * {@link EtcdNode.Builder#clientTls} (HTTPS on the client port; with trusted CAs, clients must
 * present a certificate signed by one of them, as etcd's {@code -clientCAFile}) or to
 * {@link EtcdNode.Builder#peerTls} (Raft traffic between members, always mutually authenticated:
 * trusted CAs are required there, as etcd's {@code -serverCAFile}).
 *
 * <pre>{@code
 * EtcdNode.builder()
 *     .clientTls(TlsConfig.pem(Path.of("client.crt"), Path.of("client.key")))
 *     .peerTls(TlsConfig.pem(Path.of("peer.crt"), Path.of("peer.key")).trustPem(Path.of("ca.crt")))
 * }</pre>
 *
 * <p><b>PEM files</b> are read when the node starts, not here, so a restart picks up renewed
 * files. Certificate files hold one or more {@code CERTIFICATE} blocks (this node's first, then
 * intermediates); key files an unencrypted private key as PKCS#8 ({@code BEGIN PRIVATE KEY}),
 * PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}) — what openssl and
 * etcd-era tools write. Keys and certificates given as objects or in a {@link KeyStore} are copied
 * here.
 *
 * <p><b>Failure modes.</b> Arguments are checked here ({@link NullPointerException}, {@link
 * IllegalArgumentException} for a key store without exactly one key entry). Everything about the
 * material itself is checked by {@link EtcdNode#start()}, which fails before opening any port,
 * with one sentence naming the file and the problem: a file that is missing, unreadable or not
 * PEM, no certificate or key in it, an encrypted key, a key that does not match its certificate, a
 * certificate that has expired or is not valid yet.
 *
 * <p><b>An {@link SSLContext}</b> ({@link #sslContext}) serves the client port only: Atomix 3.1,
 * which carries Raft traffic, builds its TLS from a key store and a trust store, which cannot be
 * taken out of an {@code SSLContext}; give the peer port the key material itself.
 *
 * <p>Immutable and thread-safe: every method returns a new instance.
 */
public final class TlsConfig {
  private final Path certificateFile;
  private final Path keyFile;
  private final PrivateKey key;
  private final List<X509Certificate> chain;
  private final SSLContext sslContext;
  private final boolean sslContextRequiresClientCertificates;
  private final Path trustFile;
  private final List<X509Certificate> trusted;

  private TlsConfig(Path certificateFile, Path keyFile, PrivateKey key, List<X509Certificate> chain,
      SSLContext sslContext, boolean sslContextRequiresClientCertificates, Path trustFile,
      List<X509Certificate> trusted) {
    this.certificateFile = certificateFile;
    this.keyFile = keyFile;
    this.key = key;
    this.chain = chain;
    this.sslContext = sslContext;
    this.sslContextRequiresClientCertificates = sslContextRequiresClientCertificates;
    this.trustFile = trustFile;
    this.trusted = trusted;
  }

  /**
   * This node presents the certificate chain in {@code certificateFile} (PEM, this node's
   * certificate first) and the private key in {@code keyFile} (PEM). Both are read by {@link
   * EtcdNode#start()}.
   */
  public static TlsConfig pem(Path certificateFile, Path keyFile) {
    Objects.requireNonNull(certificateFile, "certificateFile == null");
    Objects.requireNonNull(keyFile, "keyFile == null");
    return new TlsConfig(certificateFile, keyFile, null, null, null, false, null, List.of());
  }

  /** This node presents {@code certificateChain} (its own certificate first) and {@code key}. */
  public static TlsConfig of(PrivateKey key, List<X509Certificate> certificateChain) {
    Objects.requireNonNull(key, "key == null");
    Objects.requireNonNull(certificateChain, "certificateChain == null");
    if (certificateChain.isEmpty()) {
      throw new IllegalArgumentException("certificateChain is empty");
    }
    return new TlsConfig(null, null, key, copy(certificateChain), null, false, null, List.of());
  }

  /**
   * This node presents the one private key entry of {@code keyStore} (with its certificate chain),
   * read now with {@code password}. Trusted certificate entries of the same store are not used for
   * verifying; see {@link #trust(KeyStore)}.
   *
   * @throws IllegalArgumentException if the store has no private key entry or more than one, or
   *     the password does not open it
   */
  public static TlsConfig keyStore(KeyStore keyStore, char[] password) {
    Objects.requireNonNull(keyStore, "keyStore == null");
    Objects.requireNonNull(password, "password == null");
    try {
      List<String> aliases = new ArrayList<>();
      for (String alias : Collections.list(keyStore.aliases())) {
        if (keyStore.isKeyEntry(alias)) {
          aliases.add(alias);
        }
      }
      if (aliases.size() != 1) {
        throw new IllegalArgumentException("the key store must hold exactly one private key entry, it holds "
            + aliases.size() + (aliases.isEmpty() ? "" : " " + aliases));
      }
      Key k = keyStore.getKey(aliases.get(0), password);
      Certificate[] certificates = keyStore.getCertificateChain(aliases.get(0));
      if (!(k instanceof PrivateKey privateKey) || certificates == null || certificates.length == 0) {
        throw new IllegalArgumentException("the key store's entry " + aliases.get(0)
            + " is not a private key with a certificate chain");
      }
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate c : certificates) {
        if (!(c instanceof X509Certificate x509)) {
          throw new IllegalArgumentException("the key store's entry " + aliases.get(0) + " holds a non-X.509 certificate");
        }
        chain.add(x509);
      }
      return of(privateKey, chain);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the key store: " + e.getMessage(), e);
    }
  }

  /**
   * The client port uses {@code context} as it is (its key managers, trust managers and
   * protocols), for an application that already has one. The node asks clients for a certificate
   * only if {@code requireClientCertificates}; the context's trust managers then decide which are
   * accepted. Not accepted by {@link EtcdNode.Builder#peerTls} (see above), and nothing of it is
   * checked at start.
   */
  public static TlsConfig sslContext(SSLContext context, boolean requireClientCertificates) {
    Objects.requireNonNull(context, "context == null");
    return new TlsConfig(null, null, null, null, context, requireClientCertificates, null, List.of());
  }

  /**
   * A copy that verifies the other side against the CA certificates in {@code caFile} (PEM, one or
   * more {@code CERTIFICATE} blocks, read at start): a client (client port) or a member (peer port)
   * must present a certificate that chains to one of them, or its handshake fails. Replaces any
   * trusted certificates given before.
   *
   * @throws IllegalStateException on a configuration made with {@link #sslContext}, whose trust
   *     managers already decide
   */
  public TlsConfig trustPem(Path caFile) {
    Objects.requireNonNull(caFile, "caFile == null");
    checkNotSslContext();
    return new TlsConfig(certificateFile, keyFile, key, chain, null, false, caFile, List.of());
  }

  /** As {@link #trustPem}, with CA certificates given as objects. */
  public TlsConfig trust(List<X509Certificate> caCertificates) {
    Objects.requireNonNull(caCertificates, "caCertificates == null");
    if (caCertificates.isEmpty()) {
      throw new IllegalArgumentException("caCertificates is empty");
    }
    checkNotSslContext();
    return new TlsConfig(certificateFile, keyFile, key, chain, null, false, null, copy(caCertificates));
  }

  /**
   * As {@link #trustPem}, with the CA certificates of the trusted certificate entries of {@code
   * trustStore}, read now.
   *
   * @throws IllegalArgumentException if the store has no trusted certificate entry
   */
  public TlsConfig trust(KeyStore trustStore) {
    Objects.requireNonNull(trustStore, "trustStore == null");
    List<X509Certificate> cas = new ArrayList<>();
    try {
      for (String alias : Collections.list(trustStore.aliases())) {
        if (trustStore.isCertificateEntry(alias) && trustStore.getCertificate(alias) instanceof X509Certificate c) {
          cas.add(c);
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the trust store: " + e.getMessage(), e);
    }
    if (cas.isEmpty()) {
      throw new IllegalArgumentException("the trust store holds no trusted certificate entry");
    }
    return trust(cas);
  }

  /**
   * Whether the other side must present a certificate: CA certificates were given, or an {@link
   * SSLContext} was given with {@code requireClientCertificates}.
   */
  public boolean verifiesOtherSide() {
    return sslContext != null ? sslContextRequiresClientCertificates : trustFile != null || !trusted.isEmpty();
  }

  @Override
  public String toString() {
    String identity = sslContext != null ? "an SSLContext (" + sslContext.getProtocol() + ")"
        : certificateFile != null ? "PEM " + certificateFile + " + " + keyFile
        : chain.get(0).getSubjectX500Principal().getName();
    String trust = sslContext != null ? (sslContextRequiresClientCertificates ? ", client certificates required" : "")
        : trustFile != null ? ", trusting the CAs in " + trustFile
        : trusted.isEmpty() ? "" : ", trusting " + trusted.size() + " CA certificate(s)";
    return "TlsConfig{" + identity + trust + "}";
  }

  // ------------------------------------------------------------------ for EtcdNode

  /** The SSLContext given to {@link #sslContext}, or null. */
  SSLContext givenSslContext() {
    return sslContext;
  }

  /**
   * Reads (files) and checks the material. {@code port} names the port in messages: {@code
   * "client"} or {@code "peer"}, as in "the peer key file /x does not match ...".
   */
  TlsMaterial material(String port, Instant now) throws TlsMaterialException {
    if (sslContext != null) {
      throw new IllegalStateException("an SSLContext has no material to read");
    }
    PrivateKey k;
    List<X509Certificate> c;
    String keySource;
    String chainSource;
    if (certificateFile != null) {
      c = PemFiles.certificates(certificateFile, port + " certificate");
      k = PemFiles.privateKey(keyFile, port + " key");
      keySource = "the " + port + " key file " + keyFile;
      chainSource = "the " + port + " certificate file " + certificateFile;
    } else {
      c = chain;
      k = key;
      keySource = "the " + port + " private key";
      chainSource = "the " + port + " certificate chain given";
    }
    List<X509Certificate> cas = trustFile != null ? PemFiles.certificates(trustFile, port + " CA") : trusted;
    String trustSource = trustFile != null ? "the " + port + " CA file " + trustFile : "the " + port + " CA certificates given";
    return TlsMaterial.check(k, keySource, c, chainSource, cas, trustSource, now);
  }

  private void checkNotSslContext() {
    if (sslContext != null) {
      throw new IllegalStateException("a TlsConfig made from an SSLContext trusts what its trust managers trust");
    }
  }

  private static List<X509Certificate> copy(List<X509Certificate> certificates) {
    for (X509Certificate c : certificates) {
      Objects.requireNonNull(c, "certificate == null");
    }
    return List.copyOf(certificates);
  }
}
