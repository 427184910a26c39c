<?php

declare(strict_types=1);

namespace Sessiond\Tests;

use PHPUnit\Framework\TestCase;
use Sessiond\Client;
use Sessiond\Exception\ConfigurationException;
use Sessiond\Exception\InvalidSessionDataException;
use Sessiond\Exception\SessionNotFoundException;
use Sessiond\Exception\UnauthorizedException;
use Sessiond\Exception\UnavailableException;
use Sessiond\SessionHandler;
use Sessiond\Tests\Support\SessiondServer;

/**
 * The handler driven by PHP itself: session_start(), $_SESSION, session_regenerate_id(),
 * session_destroy(), session_write_close(), each test in a PHP process of its own (a fresh
 * session module, no output sent), against the real binary. The cookie a browser would send is
 * put in $_COOKIE, where PHP looks for it.
 *
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class SessionHandlerTest extends TestCase
{
    /** Another client: what Sessiond holds, as another app (or another request) sees it. */
    private Client $sessiond;

    /** @var list<array{string, string}> what the handler logged */
    private array $logged = [];

    protected function setUp(): void
    {
        $this->sessiond = new Client(SessiondServer::sharedUrl());
    }

    protected function tearDown(): void
    {
        if (session_status() === PHP_SESSION_ACTIVE) {
            session_abort();
        }
    }

    /**
     * @param array<string, mixed> $options SessionHandler's named arguments
     */
    private function register(array $options = [], ?string $url = null): SessionHandler
    {
        $options += ['logger' => function (string $level, string $message): void {
            $this->logged[] = [$level, $message];
        }];
        $handler = new SessionHandler($url ?? SessiondServer::sharedUrl(), ...$options);
        self::assertTrue(session_set_save_handler($handler, true));
        return $handler;
    }

    /** session_start() as for a request that carries this session cookie (or none). */
    private static function start(?string $cookie): void
    {
        if ($cookie === null) {
            unset($_COOKIE[session_name()]);
        } else {
            $_COOKIE[session_name()] = $cookie;
        }
        if (session_id() !== '') {
            // A session closed earlier in this process: PHP would keep its id, not read the cookie.
            session_id($cookie ?? '');
        }
        $_SESSION = [];
        self::assertTrue(session_start());
    }

    public function testANewSessionIsCreatedBySessiondAndStoredAsPlainJson(): void
    {
        $this->register();
        self::start(null);
        $sid = session_id();
        self::assertMatchesRegularExpression(Client::SID_PATTERN, $sid);
        $created = $this->sessiond->get($sid); // create_sid() made it in Sessiond
        self::assertSame([], $created->data);
        self::assertSame(1440, $created->lifetime, 'session.gc_maxlifetime');

        $_SESSION['user'] = 42;
        $_SESSION['cart'] = [1, 2];
        $_SESSION['prefs'] = ['theme' => 'dark'];
        $_SESSION['ratio'] = 1.0;
        $_SESSION['name'] = 'café';
        $_SESSION[7] = 'a numeric key';
        session_write_close();

        $stored = $this->sessiond->get($sid);
        self::assertSame(['user' => 42, 'cart' => [1, 2], 'prefs' => ['theme' => 'dark'], 'ratio' => 1.0, 'name' => 'café', 7 => 'a numeric key'], $stored->data);
        self::assertSame(
            '{"user":42,"cart":[1,2],"prefs":{"theme":"dark"},"ratio":1.0,"name":"café","7":"a numeric key"}',
            json_encode($stored->dataObject, JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION),
            'the data is a plain JSON object of the $_SESSION keys, for apps in any language',
        );
        self::assertSame(2, $stored->version);
    }

    public function testAnExistingSessionIsReadAndOnlyChangedKeysAreWritten(): void
    {
        $s = $this->sessiond->create(['a' => 1, 'b' => 1, 'gone' => true, 'nested' => ['x' => 1, 'y' => 2]], lifetime: 1440);
        $this->register();
        self::start($s->sid);
        self::assertSame($s->sid, session_id());
        self::assertSame(['a' => 1, 'b' => 1, 'gone' => true, 'nested' => ['x' => 1, 'y' => 2]], $_SESSION);

        // Another request of the same user writes meanwhile.
        $this->sessiond->patch($s->sid, ['data' => ['b' => 2, 'c' => 3, 'nested' => ['z' => 3]]]);

        $_SESSION['a'] = 5;
        unset($_SESSION['gone']);
        unset($_SESSION['nested']['y']);
        session_write_close();

        self::assertSame(
            ['a' => 5, 'b' => 2, 'nested' => ['x' => 1, 'z' => 3], 'c' => 3],
            $this->sessiond->get($s->sid)->data,
            'the other request\'s changes are kept: only what this one changed was sent',
        );
    }

    public function testStoringNullIsAConditionalReplaceRebasedOnConcurrentWrites(): void
    {
        $s = $this->sessiond->create(['a' => 1, 'flag' => 'on'], lifetime: 1440);
        $this->register();
        self::start($s->sid);
        $this->sessiond->patch($s->sid, ['data' => ['other' => 'kept']]);
        $_SESSION['flag'] = null; // a merge patch would remove it
        $_SESSION['obj'] = ['k' => null];
        session_write_close();

        $stored = $this->sessiond->get($s->sid);
        self::assertSame(['a' => 1, 'flag' => null, 'other' => 'kept', 'obj' => ['k' => null]], $stored->data);
    }

    public function testLazyWriteTouchesWithoutWriting(): void
    {
        $s = $this->sessiond->create(['n' => 1], lifetime: 1440);
        usleep(30_000);
        $this->register();
        self::start($s->sid);
        session_write_close(); // unchanged: PHP calls updateTimestamp()

        $after = $this->sessiond->get($s->sid);
        self::assertSame($s->version, $after->version, 'nothing was written');
        self::assertGreaterThan($s->expiresAt, $after->expiresAt, 'the expiry slid (a touch)');
    }

    public function testWithoutLazyWriteAnUnchangedSessionIsTouchedToo(): void
    {
        ini_set('session.lazy_write', '0');
        $s = $this->sessiond->create(['n' => 1], lifetime: 1440);
        usleep(30_000);
        $this->register();
        self::start($s->sid);
        session_write_close(); // write() with the same data

        $after = $this->sessiond->get($s->sid);
        self::assertSame($s->version, $after->version);
        self::assertGreaterThan($s->expiresAt, $after->expiresAt);
    }

    public function testAnUnknownOrMalformedIdIsNeverAdopted(): void
    {
        $this->register();
        foreach ([Client::newSid(), 'attacker-chosen', str_repeat('a', 40)] as $planted) {
            self::start($planted);
            $sid = session_id();
            self::assertNotSame($planted, $sid);
            self::assertMatchesRegularExpression(Client::SID_PATTERN, $sid);
            session_write_close();
            if (preg_match(Client::SID_PATTERN, $planted) === 1) {
                try {
                    $this->sessiond->get($planted);
                    self::fail('a session was created under a planted id');
                } catch (SessionNotFoundException) {
                }
            }
        }
    }

    public function testRegenerateIdTrueIsARotation(): void
    {
        $s = $this->sessiond->create(['count' => 3], subject: 'user-7', lifetime: 1440);
        $this->register();
        self::start($s->sid);
        $_SESSION['user'] = 'alice';
        self::assertTrue(session_regenerate_id(true));
        $new = session_id();
        self::assertNotSame($s->sid, $new);
        self::assertMatchesRegularExpression(Client::SID_PATTERN, $new);
        self::assertSame(['count' => 3, 'user' => 'alice'], $_SESSION);

        try {
            $this->sessiond->get($s->sid);
            self::fail('the old id still works');
        } catch (SessionNotFoundException) {
        }
        $this->sessiond->patch($new, ['data' => ['concurrent' => 1]]); // another request, on the new id
        session_write_close();

        $rotated = $this->sessiond->get($new);
        self::assertSame(['count' => 3, 'concurrent' => 1, 'user' => 'alice'], $rotated->data);
        self::assertSame('user-7', $rotated->subject, 'the subject carries over');
        self::assertSame(1440, $rotated->lifetime);
        self::assertEquals($s->createdAt, $rotated->createdAt, 'the same session (rotated, not copied)');
        self::assertSame($s->version + 3, $rotated->version, 'rotate, the other request, this write');
    }

    public function testRegenerateIdOnASessionMadeInThisRequest(): void
    {
        $this->register();
        self::start(null);
        $first = session_id();
        $_SESSION['a'] = 1;
        self::assertTrue(session_regenerate_id(true));
        $second = session_id();
        $_SESSION['b'] = 2;
        self::assertTrue(session_regenerate_id(true));
        $third = session_id();
        session_write_close();

        self::assertCount(3, array_unique([$first, $second, $third]));
        foreach ([$first, $second] as $dead) {
            try {
                $this->sessiond->get($dead);
                self::fail('a regenerated id still works');
            } catch (SessionNotFoundException) {
            }
        }
        self::assertSame(['a' => 1, 'b' => 2], $this->sessiond->get($third)->data);
    }

    public function testRegenerateIdFalseKeepsTheOldSessionAsPhpDoes(): void
    {
        $s = $this->sessiond->create(['n' => 1], subject: 'user-8', lifetime: 1440);
        $this->register();
        self::start($s->sid);
        $_SESSION['before'] = 'x';
        self::assertTrue(session_regenerate_id(false));
        $new = session_id();
        $_SESSION['after'] = 'y';
        session_write_close();

        self::assertSame(['n' => 1, 'before' => 'x'], $this->sessiond->get($s->sid)->data);
        $copy = $this->sessiond->get($new);
        self::assertSame(['n' => 1, 'before' => 'x', 'after' => 'y'], $copy->data);
        self::assertSame('user-8', $copy->subject);
    }

    public function testRegenerateIdOfASessionDeletedMeanwhileKeepsThisRequestsData(): void
    {
        $s = $this->sessiond->create(['n' => 1], lifetime: 1440);
        $this->register();
        self::start($s->sid);
        $this->sessiond->delete($s->sid); // logged out by another request
        $_SESSION['user'] = 'bob';
        self::assertTrue(session_regenerate_id(true));
        $new = session_id();
        session_write_close();
        self::assertNotSame($s->sid, $new);
        self::assertSame(['n' => 1, 'user' => 'bob'], $this->sessiond->get($new)->data);
    }

    public function testSessionDestroyDeletesAndTheIdIsNotAdoptedAgain(): void
    {
        $s = $this->sessiond->create(['user' => 'alice'], lifetime: 1440);
        $this->register();
        self::start($s->sid);
        self::assertTrue(session_destroy());
        try {
            $this->sessiond->get($s->sid);
            self::fail('destroyed, yet there');
        } catch (SessionNotFoundException) {
        }
        self::start($s->sid); // the request still carries the old cookie
        self::assertNotSame($s->sid, session_id());
        self::assertSame([], $_SESSION);
        session_write_close();
    }

    public function testAWriteToASessionDeletedMeanwhileDoesNotBringItBack(): void
    {
        $s = $this->sessiond->create(['user' => 'alice'], lifetime: 1440);
        $this->register();
        self::start($s->sid);
        $this->sessiond->delete($s->sid); // logout in another tab
        $_SESSION['cart'] = [1];
        session_write_close();
        try {
            $this->sessiond->get($s->sid);
            self::fail('the session came back');
        } catch (SessionNotFoundException) {
        }
        self::assertSame('warning', $this->logged[0][0] ?? null);
        self::assertStringContainsString('not recreated', $this->logged[0][1]);
    }

    public function testSessionCreateIdThenSessionStart(): void
    {
        $this->register();
        // Outside a session PHP makes the id itself: Sessiond does not know it, so it is refused.
        $phps = session_create_id();
        self::assertIsString($phps);
        session_id($phps);
        self::assertTrue(session_start());
        self::assertNotSame($phps, session_id());
        // Inside one, the handler's create_sid() makes it (PHP's manual's pattern for
        // timestamp-based session management): a new session in Sessiond, then adopted.
        $_SESSION['old'] = true;
        $id = session_create_id();
        self::assertIsString($id);
        self::assertSame([], $this->sessiond->get($id)->data);
        session_write_close();
        session_id($id);
        self::assertTrue(session_start());
        self::assertSame($id, session_id());
        self::assertSame([], $_SESSION);
        $_SESSION['a'] = 1;
        session_write_close();
        self::assertSame(['a' => 1], $this->sessiond->get($id)->data);
    }

    public function testLifetimeFollowsGcMaxlifetime(): void
    {
        ini_set('session.gc_maxlifetime', '300');
        $other = $this->sessiond->create(['a' => 1]); // made by another app, without a lifetime
        $this->register();
        self::start(null);
        $sid = session_id();
        session_write_close();
        self::assertSame(300, $this->sessiond->get($sid)->lifetime);
        self::assertLessThanOrEqual(300, $this->sessiond->get($sid)->ttl);

        self::start($other->sid);
        self::assertSame(0, session_gc(), 'gc() does nothing: Sessiond expires sessions itself');
        session_write_close(); // unchanged: a touch that also sets the lifetime
        $after = $this->sessiond->get($other->sid);
        self::assertSame(300, $after->lifetime);
        self::assertSame(['a' => 1], $after->data);
        self::assertSame($other->version + 1, $after->version);
    }

    public function testLifetimeFalseLeavesLifetimesAlone(): void
    {
        $other = $this->sessiond->create(['a' => 1]);
        $this->register(['lifetime' => false]);
        self::start($other->sid);
        $_SESSION['b'] = 2;
        session_write_close();
        self::assertNull($this->sessiond->get($other->sid)->lifetime);
        self::start(null);
        $sid = session_id();
        session_write_close();
        self::assertNull($this->sessiond->get($sid)->lifetime);
        self::assertSame(86400, $this->sessiond->get($sid)->ttl);
    }

    public function testSubject(): void
    {
        $subject = 'user-' . bin2hex(random_bytes(4));
        $handler = $this->register();
        self::start(null);
        $handler->setSubject($subject);
        self::assertSame($subject, $handler->subject());
        $_SESSION['user'] = $subject;
        session_write_close();
        self::assertSame([Client::handleFor(session_id())], array_map(static fn ($s) => $s->handle, $this->sessiond->subjectSessions($subject)));
        self::assertSame($subject, $this->sessiond->get(session_id())->subject);
    }

    public function testObjectsAndValuesJsonCannotHoldAreRefused(): void
    {
        $s = $this->sessiond->create(['keep' => 1], lifetime: 1440);
        $this->register();
        $cases = [
            [new \DateTimeImmutable('2026-01-01'), "\$_SESSION['when'] is an object (DateTimeImmutable)"],
            [['nested' => [new \ArrayObject()]], "\$_SESSION['when']['nested'][0] is an object (ArrayObject)"],
            [NAN, "\$_SESSION['when'] is NAN"],
            [INF, "\$_SESSION['when'] is INF"],
            ["\xff binary", "\$_SESSION['when'] is a string that is not UTF-8"],
        ];
        foreach ($cases as [$value, $message]) {
            self::start($s->sid);
            $_SESSION['when'] = $value;
            try {
                session_write_close();
                self::fail('stored: ' . $message);
            } catch (InvalidSessionDataException $error) {
                self::assertStringContainsString($message, $error->getMessage());
            }
            if (session_status() === PHP_SESSION_ACTIVE) {
                session_abort();
            }
        }
        self::assertSame(['keep' => 1], $this->sessiond->get($s->sid)->data, 'nothing was sent');
    }

    public function testStoredDataNeverBecomesObjects(): void
    {
        // Whatever another writer stored, PHP gets arrays and scalars: a serialized object in a
        // string stays a string, and JSON objects are arrays.
        $s = $this->sessiond->create(['s' => 'O:8:"stdClass":0:{}', 'o' => ['a' => ['b' => 'c']], 'empty' => new \stdClass()], lifetime: 1440);
        $this->register();
        self::start($s->sid);
        self::assertSame(['s' => 'O:8:"stdClass":0:{}', 'o' => ['a' => ['b' => 'c']], 'empty' => []], $_SESSION);
        $_SESSION['o']['a']['d'] = 'e';
        session_write_close();
        $stored = $this->sessiond->get($s->sid);
        self::assertEquals(new \stdClass(), $stored->dataObject->empty, 'an empty object stays an object');
        self::assertSame(['b' => 'c', 'd' => 'e'], $stored->data['o']['a']);
    }

    public function testFailClosedWhenSessiondIsUnreachable(): void
    {
        $this->register(url: 'http://127.0.0.1:' . SessiondServer::freePort());
        $_COOKIE[session_name()] = Client::newSid();
        try {
            session_start();
            self::fail('session_start() went on without Sessiond');
        } catch (UnavailableException $error) {
            self::assertStringContainsString('cannot be reached', $error->getMessage());
        }
        self::assertNotSame(PHP_SESSION_ACTIVE, session_status());

        unset($_COOKIE[session_name()]); // a new visitor: create_sid() fails the same way
        $this->expectException(UnavailableException::class);
        session_start();
    }

    public function testFailClosedOnAStoreOutageAndOnWrite(): void
    {
        $down = SessiondServer::startUnready('--store', 'redis', '--redis-url', 'redis://127.0.0.1:' . SessiondServer::freePort() . '/0');
        try {
            $this->register(url: $down->url);
            try {
                self::start(null);
                self::fail('a session was started on a store that is down');
            } catch (UnavailableException $error) {
                self::assertSame(503, $error->status);
                self::assertSame(1, $error->retryAfter);
            }
        } finally {
            $down->stop();
        }

        $server = SessiondServer::start();
        try {
            $this->register(['timeout' => 0.3], $server->url);
            self::start(null);
            $_SESSION['a'] = 1;
            $server->pause();
            try {
                session_write_close();
                self::fail('the write went nowhere silently');
            } catch (UnavailableException $error) {
                self::assertStringContainsString('did not answer within 0.3 s', $error->getMessage());
            }
        } finally {
            $server->stop();
        }
    }

    public function testFailClosedOnRegenerateAndDestroy(): void
    {
        // (A paused server runs the request that timed out once it resumes, as a slow network
        // may deliver it: so only the errors are checked here.)
        $server = SessiondServer::start();
        try {
            $client = new Client($server->url);
            $this->register(['timeout' => 0.3], $server->url);
            foreach (['session_regenerate_id', 'session_destroy'] as $function) {
                self::start($client->create(['user' => 'alice'], lifetime: 1440)->sid);
                $server->pause();
                try {
                    $function === 'session_regenerate_id' ? session_regenerate_id(true) : session_destroy();
                    self::fail("$function went on without Sessiond");
                } catch (UnavailableException $error) {
                    self::assertStringContainsString('did not answer within 0.3 s', $error->getMessage());
                }
                $server->resume();
                if (session_status() === PHP_SESSION_ACTIVE) {
                    session_abort();
                }
            }
        } finally {
            $server->stop();
        }
    }

    public function testFailOpenRunsWithAnEmptySessionThatIsNeverSaved(): void
    {
        $server = SessiondServer::start();
        try {
            $s = (new Client($server->url))->create(['user' => 'alice'], lifetime: 1440);
            $handler = $this->register(['failOpen' => true, 'timeout' => 0.3], $server->url);
            $server->pause();
            self::start($s->sid);
            self::assertSame([], $_SESSION);
            self::assertTrue($handler->isUnavailable());
            $_SESSION['user'] = 'mallory';
            session_write_close();
            $server->resume();
            self::assertSame(['user' => 'alice'], (new Client($server->url))->get($s->sid)->data, 'the real session is untouched');
            self::assertSame(['warning', 'error'], array_column($this->logged, 0));
            self::assertStringContainsString('Sessiond is unavailable', $this->logged[0][1]);

            // Logout while Sessiond is down: session_destroy() says it failed (the session is still valid).
            $this->logged = [];
            self::start($s->sid);
            $server->pause();
            self::assertFalse(@session_destroy());
            self::assertSame('error', $this->logged[0][0] ?? null);
            self::assertStringContainsString('could not be deleted', $this->logged[0][1]);
            $server->resume();

            // A new visitor while Sessiond is down: an id of the handler's own, never saved.
            $this->logged = [];
            $server->pause();
            self::start(null);
            $sid = session_id();
            self::assertMatchesRegularExpression(Client::SID_PATTERN, $sid);
            $_SESSION['a'] = 1;
            session_write_close();
            $server->resume();
            $this->expectException(SessionNotFoundException::class);
            (new Client($server->url))->get($sid);
        } finally {
            $server->stop();
        }
    }

    public function testApiKey(): void
    {
        $key = bin2hex(random_bytes(20));
        $file = (string) tempnam(sys_get_temp_dir(), 'keys-');
        file_put_contents($file, "shop:$key\n");
        $server = SessiondServer::start('--api-keys-file', $file);
        try {
            $this->register(['apiKey' => $key], $server->url);
            self::start(null);
            $_SESSION['a'] = 1;
            session_write_close();
            self::assertSame(['a' => 1], (new Client($server->url, $key))->get(session_id())->data);

            $this->register(['apiKey' => 'wrong-' . $key], $server->url);
            $this->expectException(UnauthorizedException::class);
            self::start(null);
        } finally {
            $server->stop();
            unlink($file);
        }
    }

    public function testRefusesTheDefaultSerializerAndNonStrictMode(): void
    {
        ini_set('session.serialize_handler', 'php');
        $this->register(['configure' => false]);
        try {
            session_start();
            self::fail('started with session.serialize_handler = php');
        } catch (ConfigurationException $error) {
            self::assertStringContainsString('php_serialize', $error->getMessage());
        }
        ini_set('session.serialize_handler', 'php_serialize');
        ini_set('session.use_strict_mode', '0');
        $this->expectException(ConfigurationException::class);
        $this->expectExceptionMessage('use_strict_mode');
        session_start();
    }

    public function testTheConstructorConfiguresTheSessionModule(): void
    {
        ini_set('session.serialize_handler', 'php');
        ini_set('session.use_strict_mode', '0');
        $this->register();
        self::assertSame('php_serialize', ini_get('session.serialize_handler'));
        self::assertSame('1', ini_get('session.use_strict_mode'));
    }
}
