package org.etcdjvm.embedded.internal.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;

/**
 * A port's checked TLS material: this node's private key and certificate chain (leaf first), and
 * the CA certificates it verifies the other side against (empty: it does not ask for one).
 * Immutable and thread-safe once built; {@link #check} is where a key that does not match its
 * certificate, or a certificate outside its validity period, is refused.
 */
public final class TlsMaterial {
  private final PrivateKey key;
  private final List<X509Certificate> chain;
  private final List<X509Certificate> trusted;

  private TlsMaterial(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
    this.key = key;
    this.chain = chain;
    this.trusted = trusted;
  }

  /**
   * Checks and wraps material. The sources name where each part came from, for messages, e.g.
   * {@code "the peer key file /etc/etcd/peer.key"}.
   *
   * @param trusted     CA certificates to verify the other side with; empty for none
   * @param trustSource where {@code trusted} came from; ignored when it is empty
   * @param now         the time the certificates must be valid at
   * @throws TlsMaterialException one sentence: the key does not match the leaf certificate, or a
   *     certificate of the chain (or every CA certificate) is expired or not yet valid
   */
  public static TlsMaterial check(PrivateKey key, String keySource, List<X509Certificate> chain, String chainSource,
      List<X509Certificate> trusted, String trustSource, Instant now) throws TlsMaterialException {
    Objects.requireNonNull(key, "key == null");
    if (chain.isEmpty()) {
      throw new TlsMaterialException(chainSource + " holds no certificate");
    }
    X509Certificate leaf = chain.get(0);
    if (!matches(key, leaf.getPublicKey())) {
      throw new TlsMaterialException(keySource + " does not match the certificate in " + chainSource
          + " (" + leaf.getSubjectX500Principal().getName() + ")");
    }
    Date at = Date.from(now);
    for (X509Certificate c : chain) {
      String problem = validity(c, at);
      if (problem != null) {
        throw new TlsMaterialException(chainSource + " holds a certificate that " + problem + " ("
            + c.getSubjectX500Principal().getName() + ")");
      }
    }
    if (!trusted.isEmpty()) {
      String first = null;
      for (X509Certificate c : trusted) {
        String problem = validity(c, at);
        if (problem == null) {
          first = null;
          break;
        }
        if (first == null) {
          first = "a CA certificate that " + problem + " (" + c.getSubjectX500Principal().getName() + ")";
        }
      }
      if (first != null) {
        throw new TlsMaterialException(trustSource + " holds " + (trusted.size() == 1 ? "" : "only ") + first
            + (trusted.size() == 1 ? "" : " and others that are not valid now either"));
      }
    }
    return new TlsMaterial(key, List.copyOf(chain), List.copyOf(trusted));
  }

  private static String validity(X509Certificate c, Date at) {
    if (at.after(c.getNotAfter())) {
      return "expired on " + c.getNotAfter().toInstant();
    }
    if (at.before(c.getNotBefore())) {
      return "is not valid before " + c.getNotBefore().toInstant();
    }
    return null;
  }

  /**
   * Whether {@code key} is the private half of {@code publicKey}: a signature made with one verifies
   * with the other. Key types without a signature here (none of those a TLS server uses) pass.
   */
  static boolean matches(PrivateKey key, PublicKey publicKey) throws TlsMaterialException {
    if (!key.getAlgorithm().equals(publicKey.getAlgorithm())
        && !(isEdDsa(key.getAlgorithm()) && isEdDsa(publicKey.getAlgorithm()))) {
      return false;
    }
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "DSA" -> "SHA256withDSA";
      case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
      default -> null;
    };
    if (algorithm == null) {
      return true;
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(key);
      sign.update(challenge);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(publicKey);
      verify.update(challenge);
      return verify.verify(signature);
    } catch (GeneralSecurityException e) {
      return false; // e.g. an EC key on another curve than the certificate's
    }
  }

  private static boolean isEdDsa(String algorithm) {
    return algorithm.equals("EdDSA") || algorithm.equals("Ed25519") || algorithm.equals("Ed448");
  }

  public PrivateKey key() {
    return key;
  }

  /** This node's certificate first, then any intermediates, as given. */
  public List<X509Certificate> chain() {
    return chain;
  }

  /** The CA certificates the other side's certificate must chain to; empty: none asked for. */
  public List<X509Certificate> trusted() {
    return trusted;
  }

  /**
   * The key and chain in a new in-memory key store of the JDK's default type (PKCS#12 unless the
   * {@code keystore.type} security property says otherwise), under alias {@code etcd}, protected by
   * {@code password}.
   */
  public KeyStore keyStore(char[] password) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setKeyEntry("etcd", key, password, chain.toArray(X509Certificate[]::new));
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build an in-memory key store: " + e, e);
    }
  }

  /** The trusted CA certificates in a new in-memory key store of the JDK's default type. */
  public KeyStore trustStore() {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < trusted.size(); i++) {
        store.setCertificateEntry("ca-" + i, trusted.get(i));
      }
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build an in-memory trust store: " + e, e);
    }
  }
}
