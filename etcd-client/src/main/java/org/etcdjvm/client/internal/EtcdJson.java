package org.etcdjvm.client.internal;

import com.squareup.moshi.JsonAdapter;
import com.squareup.moshi.JsonDataException;
import com.squareup.moshi.JsonReader;
import com.squareup.moshi.JsonWriter;
import java.io.IOException;
import java.net.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.NotAFileException;

/**
 * Reads etcd v1 JSON straight from the response stream with Moshi's {@link JsonReader}: response
 * objects, directory listings and error objects. Stateless and thread-safe.
 */
public final class EtcdJson {
  private EtcdJson() {}

  /** Reads and writes one v1 response object; unknown fields are skipped. */
  public static final JsonAdapter<EtcdResponse> RESPONSE = new ResponseAdapter();

  private static final JsonReader.Options ERROR_FIELDS =
      JsonReader.Options.of("errorCode", "message", "cause", "index");

  /** A single object: a write's result or a watch event. */
  public static EtcdResponse readObject(Response response) throws IOException {
    try (JsonReader reader = JsonReader.of(response.body().source())) {
      return RESPONSE.fromJson(reader);
    } catch (JsonDataException e) {
      throw protocolError(response, e);
    }
  }

  /** The GET of a key that must be a file; a listing (array) means {@code key} is a directory. */
  public static EtcdResponse readFile(Response response, List<String> segments) throws IOException, NotAFileException {
    try (JsonReader reader = JsonReader.of(response.body().source())) {
      if (reader.peek() == JsonReader.Token.BEGIN_ARRAY) {
        throw new NotAFileException("Not A File", "get: " + Keys.normalized(segments) + " is a directory (use list)", 0);
      }
      return RESPONSE.fromJson(reader);
    } catch (JsonDataException e) {
      throw protocolError(response, e);
    }
  }

  /** A directory listing; a single object (the key is a file) becomes a one-element list. */
  public static List<EtcdResponse> readList(Response response) throws IOException {
    try (JsonReader reader = JsonReader.of(response.body().source())) {
      if (reader.peek() != JsonReader.Token.BEGIN_ARRAY) return List.of(RESPONSE.fromJson(reader));
      List<EtcdResponse> result = new ArrayList<>();
      reader.beginArray();
      while (reader.hasNext()) result.add(RESPONSE.fromJson(reader));
      reader.endArray();
      return List.copyOf(result);
    } catch (JsonDataException e) {
      throw protocolError(response, e);
    }
  }

  /**
   * The etcd error object in a non-2xx response, or null if the body is not one (a proxy's HTML
   * page, Go's plain-text 500, an empty body). Reads at most 64 KiB.
   */
  public static EtcdException readError(Response response) {
    String body = bodySnippet(response);
    if (body.isEmpty() || body.charAt(0) != '{') return null;
    try (JsonReader reader = JsonReader.of(new Buffer().writeUtf8(body))) {
      reader.beginObject();
      Integer code = null;
      String message = null;
      String cause = null;
      long index = 0;
      while (reader.hasNext()) {
        switch (reader.selectName(ERROR_FIELDS)) {
          case 0: code = reader.nextInt(); break;
          case 1: message = nullableString(reader); break;
          case 2: cause = nullableString(reader); break;
          case 3: index = reader.nextLong(); break;
          default: reader.skipName(); reader.skipValue();
        }
      }
      reader.endObject();
      return code == null ? null : EtcdException.of(code, message, cause, index);
    } catch (IOException | JsonDataException e) {
      return null;
    }
  }

  /** Up to 64 KiB of the body as text, trimmed, for errors and messages; empty if unreadable. */
  public static String bodySnippet(Response response) {
    try {
      return response.peekBody(64 * 1024).string().trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** True if the body has no bytes at all (an empty long-poll answer). */
  public static boolean isEmpty(Response response) throws IOException {
    BufferedSource source = response.body().source();
    return source.exhausted();
  }

  private static ProtocolException protocolError(Response response, JsonDataException e) {
    ProtocolException p = new ProtocolException(
        "Malformed etcd response from " + response.request().url() + ": " + e.getMessage());
    p.initCause(e);
    return p;
  }

  private static String nullableString(JsonReader reader) throws IOException {
    if (reader.peek() == JsonReader.Token.NULL) return reader.nextNull();
    return reader.nextString();
  }

  private static final class ResponseAdapter extends JsonAdapter<EtcdResponse> {
    private static final String[] ACTION_NAMES = {"GET", "SET", "DELETE"};
    private static final JsonReader.Options ACTIONS = JsonReader.Options.of(ACTION_NAMES);
    private static final JsonReader.Options FIELDS = JsonReader.Options.of(
        "action", "key", "dir", "prevValue", "value", "newKey", "expiration", "ttl", "index");

    @Override public EtcdResponse fromJson(JsonReader reader) throws IOException {
      EtcdResponse.Builder builder = EtcdResponse.builder();
      boolean hasAction = false;
      boolean hasKey = false;
      Instant expiration = null;
      Duration ttl = null;
      reader.beginObject();
      while (reader.hasNext()) {
        switch (reader.selectName(FIELDS)) {
          case 0: builder.action(readAction(reader)); hasAction = true; break;
          case 1: builder.key(reader.nextString()); hasKey = true; break;
          case 2: builder.dir(reader.nextBoolean()); break;
          case 3: builder.prevValue(nullableString(reader)); break;
          case 4: builder.value(nullableString(reader)); break;
          case 5: builder.newKey(reader.nextBoolean()); break;
          case 6: expiration = parseInstant(reader); break;
          case 7: ttl = Duration.ofSeconds(Math.max(0, reader.nextLong())); break;
          case 8: builder.index(reader.nextLong()); break;
          default: reader.skipName(); reader.skipValue();
        }
      }
      reader.endObject();
      if (!hasAction || !hasKey) {
        throw new JsonDataException("Required field '" + (hasAction ? "key" : "action")
            + "' missing at " + reader.getPath());
      }
      if (ttl == null && expiration != null) ttl = Duration.ZERO;
      return builder.expiration(expiration).ttl(ttl).build();
    }

    /** The action; the three v1 actions come from constants instead of a new String each time. */
    private static String readAction(JsonReader reader) throws IOException {
      int known = reader.selectString(ACTIONS);
      return known >= 0 ? ACTION_NAMES[known] : reader.nextString();
    }

    private static Instant parseInstant(JsonReader reader) throws IOException {
      if (reader.peek() == JsonReader.Token.NULL) return reader.nextNull();
      String text = reader.nextString();
      try {
        // RFC 3339 with up to 9 fraction digits and an offset (or Z), as Go's time.Time writes it.
        return OffsetDateTime.parse(text).toInstant();
      } catch (DateTimeParseException e) {
        throw new JsonDataException("Expected an RFC 3339 time but was " + text + " at " + reader.getPath());
      }
    }

    @Override public void toJson(JsonWriter writer, EtcdResponse value) throws IOException {
      if (value == null) {
        writer.nullValue();
        return;
      }
      writer.beginObject();
      writer.name("action").value(value.action());
      writer.name("key").value(value.key());
      if (value.dir()) writer.name("dir").value(true);
      if (value.prevValue() != null) writer.name("prevValue").value(value.prevValue());
      if (value.value() != null) writer.name("value").value(value.value());
      if (value.newKey()) writer.name("newKey").value(true);
      if (value.expiration() != null) writer.name("expiration").value(value.expiration().toString());
      if (value.ttl() != null && !value.ttl().isZero()) writer.name("ttl").value(value.ttl().getSeconds());
      writer.name("index").value(value.index());
      writer.endObject();
    }

    @Override public String toString() {
      return "JsonAdapter(EtcdResponse)";
    }
  }

  /** The {@code X-Etcd-Index} header (the replica's index when it answered), or -1 without one. */
  public static long indexHeader(okhttp3.Response response) {
    String value = response.header("X-Etcd-Index");
    if (value == null) return -1;
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
