package org.etcdjvm.embedded.internal.raft.atomix;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.etcdjvm.embedded.internal.tls.TlsMaterial;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peer port's key material as the two files Atomix 3.1.12 reads. Its {@code
 * NettyMessagingService.loadKeyStores()} opens a key store and a trust store by path (of the JDK's
 * default type) with passwords, once, synchronously inside {@code start()}, and keeps the key and
 * trust managers it built in memory; there is no hook to hand it managers. So the PEM material is
 * written, just before messaging starts, to two files in the data directory, readable by this user
 * only ({@code rw-------} where the file system has POSIX permissions) and locked with a random
 * password that never leaves this JVM; they are deleted as soon as messaging has read them
 * ({@link #close()}), and any left by a JVM that died in between are deleted at the next start.
 */
final class PeerKeyStores implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PeerKeyStores.class);
  private static final String PREFIX = ".peer-tls-";

  private final Path keyStore;
  private final Path trustStore;
  private final String password;

  private PeerKeyStores(Path keyStore, Path trustStore, String password) {
    this.keyStore = keyStore;
    this.trustStore = trustStore;
    this.password = password;
  }

  /** Writes {@code material}'s key store and trust store into {@code dataDir}. */
  static PeerKeyStores write(Path dataDir, TlsMaterial material) throws IOException {
    deleteLeftovers(dataDir);
    byte[] random = new byte[24];
    SecureRandom rng = new SecureRandom();
    rng.nextBytes(random);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    rng.nextBytes(random);
    String name = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random).substring(0, 12);
    Path keys = dataDir.resolve(name + ".keys");
    Path trust = dataDir.resolve(name + ".trust");
    PeerKeyStores stores = new PeerKeyStores(keys, trust, password);
    try {
      save(material.keyStore(password.toCharArray()), keys, password);
      save(material.trustStore(), trust, password);
    } catch (IOException | RuntimeException e) {
      stores.close();
      throw e;
    }
    return stores;
  }

  private static void save(KeyStore store, Path file, String password) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file); // no POSIX permissions here: the data directory's own protection applies
    } catch (FileAlreadyExistsException e) {
      throw new IOException("the temporary key store " + file + " exists already", e);
    }
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING)) {
      store.store(out, password.toCharArray());
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot write the temporary key store " + file + ": " + e.getMessage(), e);
    }
  }

  private static void deleteLeftovers(Path dataDir) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir, PREFIX + "*")) {
      for (Path file : files) {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      log.warn("cannot delete the temporary key stores left in {}: {}", dataDir, e.toString());
    }
  }

  String keyStore() {
    return keyStore.toString();
  }

  String trustStore() {
    return trustStore.toString();
  }

  String password() {
    return password;
  }

  /** Deletes both files; never fails (a failure is logged). */
  @Override
  public void close() {
    for (Path file : Set.of(keyStore, trustStore)) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        log.warn("cannot delete the temporary key store {}: {}", file, e.toString());
      }
    }
  }
}
