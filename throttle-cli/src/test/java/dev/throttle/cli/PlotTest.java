package dev.throttle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.client.MockApi;
import dev.throttle.core.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** {@code --plot FILE.svg}: the timeline's bins, and the SVG read back as XML. */
class PlotTest {

  @TempDir
  Path dir;

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private PrintStream savedErr;
  private PrintStream savedOut;

  @BeforeEach
  void capture() {
    savedErr = System.err;
    savedOut = System.out;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setErr(savedErr);
    System.setOut(savedOut);
  }

  private static final HttpRequest REQUEST = HttpRequest.newBuilder(URI.create("http://localhost/")).build();

  @Test
  void binsCountSendsAndAnswersPer100msAndWhatIsInFlightAtTheEndOfEach() {
    ManualClock clock = new ManualClock();
    Timeline t = new Timeline(clock);
    clock.advance(Duration.ofSeconds(5)); // bins count from the first send, not from the clock's zero
    t.onSend(REQUEST);
    t.onSend(REQUEST);
    clock.advance(Duration.ofMillis(150)); // bin 1
    t.onResponse(REQUEST, MockResponse.of(200));
    t.onResponse(REQUEST, MockResponse.of(429));
    t.onSend(REQUEST);
    clock.advance(Duration.ofMillis(200)); // bin 3
    t.onError(REQUEST, new java.io.IOException("reset"));

    Timeline.Bins b = t.bins();
    assertThat(b.sent()).containsExactly(2, 1, 0, 0);
    assertThat(b.ok()).containsExactly(0, 1, 0, 0);
    assertThat(b.tooMany()).containsExactly(0, 1, 0, 0);
    assertThat(b.other()).containsExactly(0, 0, 0, 1);
    assertThat(b.inFlight()).containsExactly(2, 1, 1, 0);
  }

  @Test
  void theSvgIsXmlWithEverySeriesItsValuesAndOneBarPerNonZeroBin() throws Exception {
    Timeline.Bins bins = new Timeline.Bins(new int[] {4, 1, 0, 1}, new int[] {0, 3, 1, 0}, new int[] {0, 1, 0, 0},
        new int[] {0, 0, 0, 0}, new int[] {4, 1, 0, 1});
    String svg = SvgPlot.render("a <title> & more", bins, 4);

    Document doc = parse(svg);
    assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
    Map<String, Element> series = series(doc);
    assertThat(series).containsOnlyKeys("sent", "ok", "too-many", "in-flight", "allowed"); // no "other": none ended so
    assertThat(series.get("sent").getAttribute("data-values")).isEqualTo("4 1 0 1");
    assertThat(series.get("sent").getElementsByTagName("rect").getLength()).isEqualTo(3);
    assertThat(series.get("ok").getElementsByTagName("rect").getLength()).isEqualTo(2);
    assertThat(series.get("too-many").getElementsByTagName("rect").getLength()).isEqualTo(1);
    assertThat(series.get("in-flight").getElementsByTagName("polyline").getLength()).isEqualTo(1);
    assertThat(series.get("allowed").getAttribute("data-values")).isEqualTo("0.4"); // 4/s = 0.4 per 100 ms
    assertThat(svg).contains("a &lt;title&gt; &amp; more");
  }

  @Test
  void demoPlotDrawsEveryAttemptOfTheBatch() throws Exception {
    Path svg = dir.resolve("demo.svg");
    assertThat(Main.execute("demo", "--requests", "40", "--allotted", "20", "--latency", "30ms", "--plot",
        svg.toString())).isZero();

    Map<String, Element> series = series(parse(Files.readString(svg)));
    assertThat(series).containsKeys("sent", "ok", "too-many", "in-flight", "allowed");
    int sent = sum(series.get("sent"));
    assertThat(sent).isGreaterThanOrEqualTo(40); // the warm-up's requests are not drawn, the batch's are
    assertThat(sum(series.get("ok"))).isEqualTo(40);
    assertThat(sum(series.get("ok")) + sum(series.get("too-many"))).isEqualTo(sent);
    int[] inFlight = values(series.get("in-flight"));
    assertThat(inFlight[inFlight.length - 1]).isZero();
    assertThat(series.get("allowed").getAttribute("data-values")).isEqualTo("2");
    // 20 at once (the burst), then 20 more at 20/s: about a second of 100 ms bins
    assertThat(values(series.get("sent"))).hasSizeGreaterThanOrEqualTo(9);
  }

  @Test
  void fetchPlotShowsThe429sOfAClientFasterThanTheApi() throws Exception {
    try (MockApi api = MockApi.builder(10).latency(Duration.ofMillis(10)).start()) {
      Path in = dir.resolve("in.txt");
      Files.writeString(in, IntStream.rangeClosed(1, 30).mapToObj(i -> api.uri().resolve("i/" + i).toString())
          .collect(Collectors.joining("\n")) + "\n");
      Path svg = dir.resolve("fetch.svg");
      int code = Main.execute("fetch", in.toString(), "--rate", "100/s", "--max-attempts", "10", "--output",
          dir.resolve("out.jsonl").toString(), "--no-progress", "--plot", svg.toString());

      assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
      Map<String, Element> series = series(parse(Files.readString(svg)));
      assertThat(sum(series.get("ok"))).isEqualTo(30);
      assertThat(sum(series.get("too-many"))).isPositive().isEqualTo((int) api.rejected());
      assertThat(sum(series.get("sent"))).isEqualTo(30 + (int) api.rejected());
      assertThat(series.get("allowed").getAttribute("data-values")).isEqualTo("10"); // 100/s
    }
  }

  @Test
  void aPlotInAMissingDirectoryIsAUsageErrorBeforeAnythingIsSent() {
    Path svg = dir.resolve("no/such/dir/demo.svg");
    assertThat(Main.execute("demo", "--plot", svg.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--plot: the directory of " + svg + " does not exist");
  }

  private static Document parse(String svg) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    return f.newDocumentBuilder().parse(new java.io.ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
  }

  private static Map<String, Element> series(Document doc) {
    Map<String, Element> m = new LinkedHashMap<>();
    NodeList groups = doc.getElementsByTagName("g");
    for (int i = 0; i < groups.getLength(); i++) {
      Element g = (Element) groups.item(i);
      if (g.getAttribute("class").equals("series")) {
        m.put(g.getAttribute("id"), g);
      }
    }
    return m;
  }

  private static int[] values(Element series) {
    String v = series.getAttribute("data-values");
    return v.isEmpty() ? new int[0] : Arrays.stream(v.split(" ")).mapToInt(Integer::parseInt).toArray();
  }

  private static int sum(Element series) {
    return Arrays.stream(values(series)).sum();
  }
}
