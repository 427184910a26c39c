<?php

declare(strict_types=1);

namespace Sessiond\Tests;

use PHPUnit\Framework\TestCase;
use Sessiond\Client;
use Sessiond\Exception\SessionNotFoundException;
use Sessiond\Tests\Support\Browser;
use Sessiond\Tests\Support\PhpServer;
use Sessiond\Tests\Support\SessiondServer;

/**
 * examples/app.php served by PHP's built-in web server (php -S, four workers) and driven over
 * real HTTP by curl with a cookie jar, against the real binary.
 */
final class ExampleAppTest extends TestCase
{
    private static ?PhpServer $app = null;
    private Client $sessiond;

    public static function setUpBeforeClass(): void
    {
        self::$app = new PhpServer(dirname(__DIR__) . '/examples/app.php', ['SESSIOND_URL' => SessiondServer::sharedUrl()]);
    }

    public static function tearDownAfterClass(): void
    {
        self::$app?->stop();
        self::$app = null;
    }

    protected function setUp(): void
    {
        $this->sessiond = new Client(SessiondServer::sharedUrl());
    }

    protected function onNotSuccessfulTest(\Throwable $t): never
    {
        if (self::$app !== null) {
            $log = preg_replace('/^.*(Accepted|Closing)\n/m', '', self::$app->log());
            fwrite(STDERR, "\nphp -S log:\n$log");
        }
        throw $t;
    }

    private static function browser(): Browser
    {
        self::assertNotNull(self::$app);
        return new Browser(self::$app->url);
    }

    private function assertGone(string $sid): void
    {
        try {
            $this->sessiond->get($sid);
            self::fail('the session is still in Sessiond');
        } catch (SessionNotFoundException) {
            $this->addToAssertionCount(1);
        }
    }

    public function testCounter(): void
    {
        $browser = self::browser();
        foreach ([1, 2, 3] as $expected) {
            $reply = $browser->get('/');
            self::assertSame(200, $reply->status, $reply->body);
            self::assertSame($expected, $reply->json()['count']);
        }
        $sid = $browser->cookie();
        self::assertNotNull($sid);
        self::assertMatchesRegularExpression(Client::SID_PATTERN, $sid);
        $stored = $this->sessiond->get($sid);
        self::assertSame(['count' => 3], $stored->data, 'plain JSON, readable by any language');
        self::assertSame(1440, $stored->lifetime);
        self::assertSame(1, self::browser()->get('/')->json()['count'], 'another browser, another session');
    }

    public function testAReadOnlyRequestWritesNothingAndSlidesTheExpiry(): void
    {
        $browser = self::browser();
        $browser->get('/');
        $before = $this->sessiond->get((string) $browser->cookie());
        usleep(30_000);
        $reply = $browser->get('/session');
        self::assertSame(['count' => 1], $reply->json()['session']);
        self::assertSame([], $reply->setCookies(), 'no new cookie');
        $after = $this->sessiond->get((string) $browser->cookie());
        self::assertSame($before->version, $after->version);
        self::assertGreaterThan($before->expiresAt, $after->expiresAt);
    }

    public function testLoginRotatesTheSessionId(): void
    {
        $browser = self::browser();
        $browser->get('/');
        $browser->get('/');
        $old = (string) $browser->cookie();

        $reply = $browser->post('/login', ['user' => 'alice']);
        self::assertSame(200, $reply->status, $reply->body);
        $new = (string) $browser->cookie();
        self::assertNotSame($old, $new);
        $this->assertGone($old);

        $stored = $this->sessiond->get($new);
        self::assertSame(['count' => 2, 'user' => 'alice'], $stored->data);
        self::assertSame('user-alice', $stored->subject);
        self::assertSame(['count' => 3, 'user' => 'alice'], $browser->get('/')->json());

        // The old id, replayed (a copy of the cookie taken before login), is worth nothing.
        $attacker = self::browser();
        $attacker->setCookie($old);
        self::assertSame(['count' => 1, 'user' => null], $attacker->get('/')->json());
        self::assertNotSame($old, $attacker->cookie());
    }

    public function testLogout(): void
    {
        $browser = self::browser();
        $browser->post('/login', ['user' => 'bob']);
        $sid = (string) $browser->cookie();
        self::assertSame('bob', $browser->get('/')->json()['user']);

        $reply = $browser->post('/logout');
        self::assertSame(['user' => null], $reply->json());
        self::assertNull($browser->cookie(), 'the cookie is removed');
        $this->assertGone($sid);

        self::assertSame(['count' => 1, 'user' => null], $browser->get('/')->json());
        self::assertNotSame($sid, $browser->cookie());
    }

    public function testLogOutOtherDevices(): void
    {
        $user = 'carol' . bin2hex(random_bytes(3));
        $laptop = self::browser();
        $phone = self::browser();
        $laptop->post('/login', ['user' => $user]);
        $phone->post('/login', ['user' => $user]);
        self::assertSame(['ended' => 1], $laptop->post('/logout-others')->json());
        self::assertSame($user, $laptop->get('/')->json()['user']);
        self::assertNull($phone->get('/')->json()['user']);
    }

    public function testAPlantedCookieIsNeverAdopted(): void
    {
        foreach ([Client::newSid(), 'planted-by-an-attacker'] as $planted) {
            $browser = self::browser();
            $browser->setCookie($planted);
            self::assertSame(1, $browser->get('/')->json()['count']);
            self::assertNotSame($planted, $browser->cookie());
            if (preg_match(Client::SID_PATTERN, $planted) === 1) {
                $this->assertGone($planted);
            }
        }
    }

    public function testTwoConcurrentRequestsSettingDifferentKeysBothSurvive(): void
    {
        $browser = self::browser();
        $browser->get('/');
        $sid = (string) $browser->cookie();

        $started = microtime(true);
        [$a, $b] = $browser->concurrently([
            ['POST', '/set', ['key' => 'a', 'value' => 'from-a', 'delay_ms' => '400']],
            ['POST', '/set', ['key' => 'b', 'value' => 'from-b', 'delay_ms' => '400']],
        ]);
        self::assertSame(['set' => 'a'], $a->json());
        self::assertSame(['set' => 'b'], $b->json());
        self::assertLessThan(0.8 + 0.3, microtime(true) - $started, 'the two requests ran at once');

        self::assertEqualsCanonicalizing(['count' => 1, 'a' => 'from-a', 'b' => 'from-b'], $browser->get('/session')->json()['session']);
        self::assertSame($sid, $browser->cookie());
        self::assertEqualsCanonicalizing(['count' => 1, 'a' => 'from-a', 'b' => 'from-b'], $this->sessiond->get($sid)->data);
    }

    public function testFailClosedAnswers503AndFailOpenGoesOnWithoutASession(): void
    {
        $dead = 'http://127.0.0.1:' . SessiondServer::freePort();
        $closed = new PhpServer(dirname(__DIR__) . '/examples/app.php', ['SESSIOND_URL' => $dead], workers: 1);
        try {
            $reply = (new Browser($closed->url))->get('/');
            self::assertSame(503, $reply->status);
            self::assertSame(['error' => 'sessions are unavailable, try again shortly'], $reply->json());
        } finally {
            $closed->stop();
        }
        $open = new PhpServer(dirname(__DIR__) . '/examples/app.php', ['SESSIOND_URL' => $dead, 'SESSIOND_FAIL_OPEN' => '1'], workers: 1);
        try {
            $browser = new Browser($open->url);
            self::assertSame(['count' => 1, 'user' => null], $browser->get('/')->json());
            self::assertSame(['session' => [], 'unavailable' => true], $browser->get('/session')->json());
            self::assertStringContainsString('Sessiond is unavailable', $open->log());
        } finally {
            $open->stop();
        }
    }
}
