package org.etcdjvm.client;

import com.squareup.moshi.Moshi;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.etcdjvm.client.internal.EtcdJson;
import org.etcdjvm.client.internal.Keys;
import org.etcdjvm.client.internal.PemFiles;
import org.etcdjvm.client.internal.RequestSpec;
import org.etcdjvm.client.internal.Transport;

/**
 * A client of etcd's v1 HTTP API (etcd 0.1.2, as served by etcdjvm).
 *
 * <p>Reads see this client's own writes: see {@link Builder#staleReads}.
 *
 * <pre>{@code
 * try (EtcdClient etcd = EtcdClient.builder()
 *     .endpoints("http://127.0.0.1:4001", "http://127.0.0.1:4002")
 *     .build()) {
 *   etcd.set("/message", "Hello").ttl(Duration.ofSeconds(5)).send();
 *   String value = etcd.get("/message").send().value();
 *   Watch watch = etcd.watch("/foo-service").listener(event -> reconfigure(event)).start();
 * }
 * }</pre>
 *
 * <h2>Keys</h2>
 * A key is a path: {@code foo}, {@code /foo} and {@code /foo/} name the same key {@code /foo}.
 * Each segment is percent-encoded, so any character (space, {@code %}, {@code ?}, {@code #}) is
 * safe; the segments {@code .} and {@code ..} are refused with {@link IllegalArgumentException}.
 *
 * <h2>Endpoints, leader, failover</h2>
 * <ul>
 *   <li>Reads and watches go to one endpoint at a time (the first configured, until it fails).
 *       Connection failures and 5xx move them to the next endpoint; each endpoint is tried once
 *       per request before the request fails with the last {@link IOException}.
 *   <li>Writes go to the leader once it is known. A follower answers a write with 307; the client
 *       (not OkHttp, whose redirect following is off) re-sends the same method and form body to
 *       {@code Location}, at most 3 hops, and remembers that leader. A loop, too many hops or a
 *       missing {@code Location} fails with {@link java.net.ProtocolException}; the write was not
 *       applied.
 *   <li>A write moves to another endpoint only if it provably never left (connection refused,
 *       unknown host, connect timeout). Once it may have arrived, a failure (or a 5xx answer other
 *       than "no leader") is reported as {@link WriteOutcomeUnknownException} and the write is
 *       never re-sent: OkHttp's own retry is off for writes.
 *   <li>With {@link Builder#autoSync} (the default) the member list is read from {@code
 *       /v1/machines} in the background on first use and after each failover; the first machine
 *       is the leader. {@link #machines()} refreshes it on demand.
 * </ul>
 *
 * <h2>TLS</h2>
 * {@code https://} endpoints work as they are against certificates the JDK trusts; for a cluster's
 * own CA give {@link Builder#trustedCertificates}, and for nodes that ask for client certificates
 * (etcd's {@code -clientCAFile}) {@link Builder#clientCertificate}. Host names are verified (OkHttp's
 * default). Redirects keep TLS: a redirect from {@code https://} to {@code http://} fails with
 * {@link java.net.ProtocolException} (the request is not applied), and a client whose endpoints are
 * all {@code https://} does not send to plain {@code http://} members that {@code /v1/machines}
 * lists.
 *
 * <h2>Errors</h2>
 * An etcd error object becomes an {@link EtcdException} (subclasses for the common codes); a
 * transport failure is an {@link IOException}. Both are checked. A get of a missing key throws
 * {@link KeyNotFoundException}; see {@link #getOrNull} and {@link GetRequest#optional()}.
 *
 * <h2>Resources and threads</h2>
 * Thread-safe; share one client. All threads it creates are daemons. {@link #close()} cancels
 * every watch; it cancels calls and shuts down the dispatcher executor and connection pool only if
 * the client created them. A user-supplied {@link OkHttpClient} or executor is used, never shut
 * down.
 */
public final class EtcdClient implements Closeable {
  private final Transport transport;

  private EtcdClient(Transport transport) {
    this.transport = transport;
  }

  /** A builder with every default: see {@link Builder}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Sets {@code key} to {@code value} (which must not be empty: etcd v1 cannot store ""). */
  public SetRequest set(String key, String value) {
    return new SetRequest(transport, transport.segments(key, "key"), checkValue(value, "value"), null, 0, 0);
  }

  /**
   * Sets {@code key} to {@code value} encoded as JSON with the client's {@link Moshi}; read it back
   * with {@code get(key).as(type)}. A {@link String} is stored as is, not JSON-quoted.
   *
   * @throws IllegalArgumentException if Moshi cannot encode the value's class
   */
  public SetRequest set(String key, Object value) {
    Objects.requireNonNull(value, "value == null");
    if (value instanceof String) return set(key, (String) value);
    @SuppressWarnings("unchecked")
    Class<Object> type = (Class<Object>) value.getClass();
    return set(key, transport.moshi().adapter(type).toJson(value));
  }

  /**
   * Sets {@code key} to {@code value} only if its current value is {@code prevValue} (etcd's
   * test-and-set). Fails with {@link CompareFailedException} if it differs, {@link
   * KeyNotFoundException} if the key does not exist. An empty {@code prevValue} means "only if
   * absent", as {@link #create}.
   */
  public SetRequest compareAndSet(String key, String prevValue, String value) {
    Objects.requireNonNull(prevValue, "prevValue == null");
    return new SetRequest(transport, transport.segments(key, "key"), checkValue(value, "value"), prevValue, 0, 0);
  }

  /**
   * Creates {@code key} only if it does not exist (a test-and-set with an empty {@code prevValue}).
   * Fails with {@link CompareFailedException} if it exists. With a TTL this is a simple lock.
   */
  public SetRequest create(String key, String value) {
    return new SetRequest(transport, transport.segments(key, "key"), checkValue(value, "value"), "", 0, 0);
  }

  /** Reads {@code key}; see {@link GetRequest} for typed values and missing keys. */
  public GetRequest<EtcdResponse> get(String key) {
    return GetRequest.of(transport, transport.segments(key, "key"));
  }

  /** Reads {@code key} on the calling thread; null if it does not exist. */
  public EtcdResponse getOrNull(String key) throws IOException, EtcdException {
    return get(key).orNull().send();
  }

  /**
   * Deletes the file {@code key}; returns the {@code "DELETE"} response with the old value in
   * {@link EtcdResponse#prevValue()}. etcd v1 cannot delete directories: that is {@link
   * KeyNotFoundException}, as is a missing key.
   */
  public EtcdRequest<EtcdResponse> delete(String key) {
    return new EtcdRequest<>(transport, RequestSpec.write("DELETE", transport.segments(key, "key"), null),
        EtcdJson::readObject, null);
  }

  /**
   * Lists the immediate children of the directory {@code key} (one level; sub-directories have
   * {@link EtcdResponse#dir()} set), sorted by key on etcdjvm. If {@code key} is a file the list
   * holds just that file. A missing directory is {@link KeyNotFoundException}.
   */
  public EtcdRequest<List<EtcdResponse>> list(String key) {
    return new EtcdRequest<>(transport, RequestSpec.read("keys", transport.segments(key, "key")),
        EtcdJson::readList, null);
  }

  /**
   * Watches {@code prefix} and every key below it, continuously, until closed. See {@link Watch}
   * for the delivery guarantees.
   */
  public Watch.Builder watch(String prefix) {
    List<String> segments = transport.segments(prefix, "prefix");
    return new Watch.Builder(transport, Keys.normalized(segments), segments);
  }

  /**
   * Reads {@code /v1/machines}: the client URLs of the cluster's members, leader first. Sending it
   * also updates this client's member list and leader.
   */
  public EtcdRequest<List<String>> machines() {
    return new EtcdRequest<>(transport, RequestSpec.read("machines", List.of()), transport::readMachines, null);
  }

  /** The endpoints this client currently knows, in failover order. */
  public List<String> endpoints() {
    List<String> result = new ArrayList<>();
    for (HttpUrl url : transport.endpoints().members()) result.add(url.toString());
    return List.copyOf(result);
  }

  /** The endpoint writes go to first: the known leader, or the current read endpoint. */
  public String writeEndpoint() {
    return transport.endpoints().forWrite().toString();
  }

  /** The {@link Moshi} used for typed values. */
  public Moshi moshi() {
    return transport.moshi();
  }

  /** Cancels all watches and releases what this client created. Idempotent. */
  @Override public void close() {
    transport.close();
  }

  private static String checkValue(String value, String name) {
    Objects.requireNonNull(value, () -> name + " == null");
    if (value.isEmpty()) throw new IllegalArgumentException(name + " is empty: etcd v1 cannot store an empty value");
    return value;
  }

  /**
   * Configures an {@link EtcdClient}. Every setting has a default; {@code
   * EtcdClient.builder().build()} talks to {@code http://127.0.0.1:4001}. Not thread-safe.
   */
  public static final class Builder {
    private List<HttpUrl> endpoints = List.of(HttpUrl.get("http://127.0.0.1:4001"));
    private OkHttpClient okHttpClient;
    private ExecutorService executorService;
    private Executor callbackExecutor;
    private Moshi moshi;
    private Duration connectTimeout;
    private Duration readTimeout;
    private Duration watchTimeout = Duration.ofSeconds(60);
    private boolean autoSync = true;
    private boolean staleReads;
    private List<X509Certificate> trustedCertificates = List.of();
    private HeldCertificate clientCertificate;
    private List<X509Certificate> clientIntermediates = List.of();
    private HandshakeCertificates handshakeCertificates;

    Builder() {}

    /** The cluster's client URLs, such as {@code http://127.0.0.1:4001}. Default: that one. */
    public Builder endpoints(String... endpoints) {
      Objects.requireNonNull(endpoints, "endpoints == null");
      return endpoints(List.of(endpoints));
    }

    /** As {@link #endpoints(String...)}. Duplicates are dropped; at least one is required. */
    public Builder endpoints(List<String> endpoints) {
      Objects.requireNonNull(endpoints, "endpoints == null");
      if (endpoints.isEmpty()) throw new IllegalArgumentException("endpoints is empty");
      Set<HttpUrl> urls = new LinkedHashSet<>();
      for (String endpoint : endpoints) {
        Objects.requireNonNull(endpoint, "endpoint == null");
        HttpUrl url = HttpUrl.parse(endpoint.trim());
        if (url == null) throw new IllegalArgumentException("endpoint is not an http or https URL: \"" + endpoint + "\"");
        urls.add(url.newBuilder().query(null).fragment(null).build());
      }
      this.endpoints = List.copyOf(urls);
      return this;
    }

    /**
     * The OkHttp client to build on: its connection pool, dispatcher, interceptors, TLS, proxy and
     * (unless set here) timeouts are used. It is never shut down. Watches still get a dispatcher
     * of their own, running on that client's executor.
     */
    public Builder okHttpClient(OkHttpClient client) {
      this.okHttpClient = Objects.requireNonNull(client, "client == null");
      return this;
    }

    /**
     * The executor behind the client's dispatchers: it runs {@code sendAsync()} calls and watch
     * long-polls (only the long-polls if an {@link #okHttpClient} is given, whose dispatcher runs
     * the rest). Default: a cached pool of daemon threads, created and shut down by the client
     * (or, with an {@code okHttpClient}, that client's executor). One passed here is never shut
     * down. It must not cap threads below the number of watches plus concurrent async calls:
     * each in-flight call, long-polls included, holds a thread.
     */
    public Builder executorService(ExecutorService executor) {
      this.executorService = Objects.requireNonNull(executor, "executor == null");
      return this;
    }

    /**
     * Where watch callbacks run (one at a time per watch). Default: none, so callbacks run on the
     * OkHttp thread that read the event, which is fastest; keep them short or set an executor.
     */
    public Builder callbackExecutor(Executor executor) {
      this.callbackExecutor = Objects.requireNonNull(executor, "executor == null");
      return this;
    }

    /** The Moshi for {@link EtcdClient#set(String, Object)} and {@link GetRequest#as}. Default: {@code new Moshi.Builder().build()}. */
    public Builder moshi(Moshi moshi) {
      this.moshi = Objects.requireNonNull(moshi, "moshi == null");
      return this;
    }

    /**
     * Connect timeout of every call. Default 2 s (or the {@link #okHttpClient}'s); a short one makes
     * failover to the next endpoint quick. {@link Duration#ZERO} means none.
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = checkTimeout(timeout);
      return this;
    }

    /**
     * Read timeout of normal calls (not long-polls). Default 5 s (or the {@link #okHttpClient}'s).
     * {@link Duration#ZERO} means none.
     */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = checkTimeout(timeout);
      return this;
    }

    /**
     * Read timeout of each watch long-poll, applied per call: a poll that sees no event for this
     * long is quietly re-issued from the same index (this also detects dead connections).
     * Default 60 s; must be positive. A watch may override it with {@link Watch.Builder#timeout}.
     */
    public Builder watchTimeout(Duration timeout) {
      checkTimeout(timeout);
      if (timeout.isZero()) throw new IllegalArgumentException("watchTimeout == 0");
      this.watchTimeout = timeout;
      return this;
    }

    /**
     * Whether to refresh the member list from {@code /v1/machines} in the background on first use
     * and after each failover. Default true.
     */
    public Builder autoSync(boolean autoSync) {
      this.autoSync = autoSync;
      return this;
    }

    /**
     * Whether a read may show state older than this client's own last acknowledged write. Default
     * false: reads go to the read endpoint (any member, answering from its local replica, as etcd
     * 0.1 did), and a reply from a member whose replica has not yet applied this client's last
     * write (its {@code X-Etcd-Index} header is lower, or absent) is asked again of the leader, which
     * applied the write before acknowledging it. True skips that check: slightly faster, and reads
     * from a follower may miss this client's writes for a few milliseconds. Watches are not
     * affected either way.
     */
    public Builder staleReads(boolean allowed) {
      this.staleReads = allowed;
      return this;
    }

    /**
     * The CA certificates that {@code https://} endpoints' certificates must chain to, instead of
     * the JDK's default CAs (etcdctl's {@code --ca-file}): typically the one CA that signed the
     * nodes' {@code -clientCert}. Host names are verified as usual: a node's certificate must name
     * the host or IP address of its URL. Default: the JDK's trusted CAs (or the {@link
     * #okHttpClient}'s TLS settings).
     */
    public Builder trustedCertificates(X509Certificate... caCertificates) {
      Objects.requireNonNull(caCertificates, "caCertificates == null");
      return trustedCertificates(List.of(caCertificates));
    }

    /** As {@link #trustedCertificates(X509Certificate...)}; at least one. */
    public Builder trustedCertificates(List<X509Certificate> caCertificates) {
      Objects.requireNonNull(caCertificates, "caCertificates == null");
      if (caCertificates.isEmpty()) throw new IllegalArgumentException("caCertificates is empty");
      for (X509Certificate c : caCertificates) Objects.requireNonNull(c, "certificate == null");
      this.trustedCertificates = List.copyOf(caCertificates);
      return this;
    }

    /**
     * As {@link #trustedCertificates(X509Certificate...)}, with the certificates of a PEM file
     * (one or more {@code -----BEGIN CERTIFICATE-----} blocks), read now.
     *
     * @throws IllegalArgumentException with one sentence naming the file and the problem, if it is
     *     missing, unreadable, or holds no certificate
     */
    public Builder trustedCertificates(Path caFile) {
      Objects.requireNonNull(caFile, "caFile == null");
      return trustedCertificates(PemFiles.certificates(caFile, "CA"));
    }

    /**
     * The certificate and key this client presents when a server asks for one (a node started with
     * etcd's {@code -clientCAFile}; etcdctl's {@code --cert-file} and {@code --key-file}), followed
     * by any {@code intermediates}. Default: none.
     *
     * @throws IllegalArgumentException if {@code key} is not the private key of {@code certificate}
     */
    public Builder clientCertificate(PrivateKey key, X509Certificate certificate, X509Certificate... intermediates) {
      Objects.requireNonNull(key, "key == null");
      Objects.requireNonNull(certificate, "certificate == null");
      Objects.requireNonNull(intermediates, "intermediates == null");
      if (!PemFiles.matches(key, certificate.getPublicKey())) {
        throw new IllegalArgumentException("the key does not match the certificate ("
            + certificate.getSubjectX500Principal().getName() + ")");
      }
      this.clientCertificate = new HeldCertificate(new KeyPair(certificate.getPublicKey(), key), certificate);
      this.clientIntermediates = List.of(intermediates);
      return this;
    }

    /**
     * As {@link #clientCertificate(PrivateKey, X509Certificate, X509Certificate...)}, from PEM
     * files read now: {@code certificateFile} holds this client's certificate, then any
     * intermediates; {@code keyFile} its unencrypted private key as PKCS#8 ({@code BEGIN PRIVATE
     * KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}).
     *
     * @throws IllegalArgumentException with one sentence naming the file and the problem: missing,
     *     unreadable, not PEM, no certificate or key in it, an encrypted key
     */
    public Builder clientCertificate(Path certificateFile, Path keyFile) {
      Objects.requireNonNull(certificateFile, "certificateFile == null");
      Objects.requireNonNull(keyFile, "keyFile == null");
      List<X509Certificate> chain = PemFiles.certificates(certificateFile, "client certificate");
      PrivateKey key = PemFiles.privateKey(keyFile, "client key");
      if (!PemFiles.matches(key, chain.get(0).getPublicKey())) {
        throw new IllegalArgumentException("the client key file " + keyFile + " does not match the certificate in "
            + certificateFile + " (" + chain.get(0).getSubjectX500Principal().getName() + ")");
      }
      return clientCertificate(key, chain.get(0), chain.subList(1, chain.size()).toArray(X509Certificate[]::new));
    }

    /**
     * Everything about TLS at once, as OkHttp's {@link HandshakeCertificates} (trusted CAs, and the
     * certificate this client presents). Replaces {@link #trustedCertificates} and {@link
     * #clientCertificate}. Default: none.
     */
    public Builder handshakeCertificates(HandshakeCertificates certificates) {
      this.handshakeCertificates = Objects.requireNonNull(certificates, "certificates == null");
      return this;
    }

    /** A new client; it makes no network call until the first request. */
    public EtcdClient build() {
      Moshi m = moshi != null ? moshi : new Moshi.Builder().build();
      return new EtcdClient(new Transport(endpoints, okHttpClient, executorService, callbackExecutor,
          m, connectTimeout, readTimeout, watchTimeout, autoSync, staleReads, tls()));
    }

    /** The TLS settings made here, or null to keep OkHttp's (or the given client's). */
    private HandshakeCertificates tls() {
      if (handshakeCertificates != null) return handshakeCertificates;
      if (trustedCertificates.isEmpty() && clientCertificate == null) return null;
      HandshakeCertificates.Builder b = new HandshakeCertificates.Builder();
      if (trustedCertificates.isEmpty()) {
        b.addPlatformTrustedCertificates();
      } else {
        for (X509Certificate ca : trustedCertificates) b.addTrustedCertificate(ca);
      }
      if (clientCertificate != null) {
        b.heldCertificate(clientCertificate, clientIntermediates.toArray(X509Certificate[]::new));
      }
      return b.build();
    }

    private static Duration checkTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout == null");
      if (timeout.isNegative()) throw new IllegalArgumentException("timeout < 0: " + timeout);
      return timeout;
    }
  }
}
