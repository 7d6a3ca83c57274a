package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The explorer page in a real headless Chromium (Debian's chromium + chromium-driver, which
 * .ci/run installs) driven through Selenium: it types a sentence, runs it, and checks the head
 * view and heatmap show the model's tokens and the weights /attention returns, that changing the
 * layer or head redraws them, that hovering highlights a row, and the cross-attention of an
 * encoder-decoder model and the attributions of a classifier. Screenshots go to target/.
 */
class ExplorerBrowserTest {
    static final Path CHROMIUM = Path.of(System.getProperty("attn4j.chromium", "/usr/bin/chromium"));
    static final Path DRIVER = Path.of(System.getProperty("attn4j.chromedriver", "/usr/bin/chromedriver"));

    @TempDir
    static Path tmp;
    static Server server;
    static WebDriver driver;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "no Chromium: install Debian's chromium and chromium-driver (.ci/run does)");
        server = Server.start(ServeOptions.defaults().withPort(0),
                List.of(TestModels.embedding(), TestModels.classifier(tmp), TestModels.seq2seq()));
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1500,1100",
                "--user-data-dir=" + tmp.resolve("chromium-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(service, o);
    }

    @AfterAll
    static void stop() {
        if (driver != null) driver.quit();
        if (server != null) server.stop();
    }

    static WebDriverWait await() {
        return new WebDriverWait(driver, Duration.ofSeconds(60));
    }

    static List<String> texts(String css) {
        List<String> out = new ArrayList<>();
        for (WebElement e : driver.findElements(By.cssSelector(css))) out.add(e.getText());
        return out;
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** The heatmap canvas's pixels, and each head-view line as "head/query/key=opacity". */
    static String drawing() {
        return js("return document.querySelector('#heatmap canvas').toDataURL();") + "|"
                + js("return Array.from(document.querySelectorAll('#head-view line')).map(l => l.dataset.head + '/' + l.dataset.query"
                + " + '/' + l.dataset.key + '=' + l.getAttribute('stroke-opacity')).join(',');");
    }

    static void run(String model, String text, String pair) {
        driver.get(server.url() + "/?model=" + model);
        await().until(d -> !d.findElements(By.cssSelector("#model option")).isEmpty());
        new Select(driver.findElement(By.id("model"))).selectByValue(model);
        WebElement t = driver.findElement(By.id("text"));
        t.clear();
        t.sendKeys(text);
        if (pair != null) {
            WebElement p = driver.findElement(By.id("text_pair"));
            p.clear();
            p.sendKeys(pair);
        }
        driver.findElement(By.id("run")).click();
        await().until(d -> !d.findElements(By.cssSelector("#heatmap canvas")).isEmpty());
    }

    static void screenshot(String name) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "screenshots"));
        File shot = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void headViewAndHeatmapShowTheTokensAndFollowLayerAndHead() throws Exception {
        String sentence = "The quick brown fox jumps over the lazy dog.";
        run("all-MiniLM-L6-v2", sentence, null);
        JsonNode api = Http.post(server.url() + "/attention", "{\"model\": \"all-MiniLM-L6-v2\", \"text\": "
                + TestModels.JSON.valueToTree(sentence) + "}").json();
        List<String> tokens = new ArrayList<>();
        api.get("tokens").forEach(x -> tokens.add(x.asText()));
        assertThat(tokens).startsWith("[CLS]", "the", "quick").endsWith(".", "[SEP]");
        assertThat(texts("#head-view .column.left .token")).isEqualTo(tokens);
        assertThat(texts("#head-view .column.right .token")).isEqualTo(tokens);
        assertThat(texts("#heatmap .rows .token")).isEqualTo(tokens);
        assertThat(texts("#heatmap .cols .token")).hasSize(tokens.size());         // vertical labels: compare their text content
        assertThat((List<?>) js("return Array.from(document.querySelectorAll('#heatmap .cols .token')).map(e => e.textContent);"))
                .isEqualTo(tokens);
        assertThat(driver.findElements(By.cssSelector("#head-view line"))).isNotEmpty();
        // hovering a token highlights its row in the heatmap and keeps only its lines in the head view
        WebElement fox = driver.findElements(By.cssSelector("#head-view .column.left .token")).get(4);
        new Actions(driver).moveToElement(fox).perform();
        await().until(d -> d.findElements(By.cssSelector("#heatmap .rows .token.highlight")).size() == 1);
        assertThat(driver.findElement(By.cssSelector("#heatmap .rows .token.highlight")).getText()).isEqualTo("fox");
        assertThat((Long) js("return Array.from(document.querySelectorAll('#head-view line')).filter(l => l.style.display !== 'none'"
                + " && l.dataset.query !== '4').length;")).isZero();
        screenshot("explorer.png");
        new Actions(driver).moveToElement(driver.findElement(By.id("status"))).perform();
        // layer and head change the drawing
        String layer0 = drawing();
        new Select(driver.findElement(By.id("layer"))).selectByValue("3");
        String layer3 = drawing();
        assertThat(layer3).isNotEqualTo(layer0);
        new Select(driver.findElement(By.id("head"))).selectByValue("5");
        String head5 = drawing();
        assertThat(head5).isNotEqualTo(layer3);
        assertThat(driver.findElement(By.id("heatmap-caption")).getText()).contains("layer 3, head 5");
        // the lines of layer 3, head 5 are its weights (float16, 3 decimals)
        JsonNode w = api.get("attentions").get(3).get(5);
        int drawn = 0;
        for (WebElement line : driver.findElements(By.cssSelector("#head-view line"))) {
            assertThat(line.getDomAttribute("data-head")).isEqualTo("5");
            int q = Integer.parseInt(line.getDomAttribute("data-query")), k = Integer.parseInt(line.getDomAttribute("data-key"));
            assertThat(Double.parseDouble(line.getDomAttribute("stroke-opacity"))).isCloseTo(w.get(q).get(k).asDouble(),
                    org.assertj.core.data.Offset.offset(2e-3));
            drawn++;
        }
        int expected = 0;
        for (JsonNode row : w) for (JsonNode v : row) if (v.asDouble() >= 0.0105) expected++;
        assertThat(drawn).isGreaterThanOrEqualTo(expected);
    }

    @Test
    void crossAttentionOfAnEncoderDecoderModel() throws Exception {
        run("tiny-dates", "May 1, 2020", "2020-05-01");
        assertThat(texts("#head-view .column.right .token")).containsExactly("M", "a", "y", " ", "1", ",", " ", "2", "0", "2", "0");
        List<String> target = texts("#head-view .column.left .token");
        assertThat(String.join("", target.subList(0, target.size() - 1))).isEqualTo("2020-05-01");
        assertThat(target.getLast()).isEqualTo("EOS");
        assertThat(texts("#heatmap .rows .token")).isEqualTo(target);
        assertThat(driver.findElement(By.id("heatmap-caption")).getText()).contains("target");
        screenshot("explorer-seq2seq.png");
    }

    @Test
    void attributionsOfAClassifier() throws Exception {
        run("minilm-classifier", "What a wonderful film", null);
        await().until(d -> d.findElement(By.id("attributions-panel")).isDisplayed());
        assertThat(texts("#attributions .row .token")).hasSize(2 * texts("#heatmap .rows .token").size());
        assertThat(driver.findElement(By.cssSelector("#attributions .label")).getText()).startsWith("Predicted: ");
        screenshot("explorer-classifier.png");
    }
}
