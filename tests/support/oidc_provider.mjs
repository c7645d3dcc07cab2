// A real OpenID Connect provider for the tests (npm oidc-provider, certified), set up like
// ProConnect: its scopes and claims (given_name, usual_name, email, uid, siret, idp_id,
// organization_label), eidas acr levels, PKCE required, the claims parameter, user info as a
// signed JWT, RP-initiated logout. Test support only: never part of the hub.
//
//   node tests/support/oidc_provider.mjs CONFIG.json
//
// CONFIG: {"port", "issuer", "clients": [...], "accounts": {"<email>": {claims..., "acr"}},
//          "codeTtl": seconds}. Prints "PRET <issuer>" once it listens on 127.0.0.1.
// Login page: /interaction/<uid> (a form: e-mail, any password); consent is granted at once
// (ProConnect asks none). Test switches: POST /test/mode {"idTokenAudience": "other"} makes the
// next token response carry an ID token re-signed for another audience; {"userinfoJson": true}
// makes the next user info plain JSON instead of a signed JWT (then back to normal).
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "cle-test", alg: "RS256", use: "sig" };
const accounts = config.accounts;
const mode = { idTokenAudience: null, userinfoJson: false };

const SCOPES = ["openid", "given_name", "usual_name", "email", "uid", "siret", "idp_id",
  "organization_label"];
const claims = Object.fromEntries(SCOPES.map((s) => [s, s === "openid" ? ["sub"] : [s]]));
claims.openid = ["sub"];

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
  scopes: SCOPES,
  claims,
  acrValues: ["eidas0", "eidas0-mfa", "eidas1", "eidas1-mfa", "eidas2", "eidas3"],
  pkce: { required: () => true },
  ttl: {
    AuthorizationCode: config.codeTtl || 30,
    AccessToken: 60,
    IdToken: 60,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    jwtUserinfo: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page("Déconnexion", `<h1>Se déconnecter de ProConnect (test) ?</h1>${form}
          <button id="deconnexion-oui" type="submit" form="op.logoutForm" name="logout" value="yes">Oui, me déconnecter</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page("Déconnecté", "<h1>Vous êtes déconnecté de ProConnect (test).</h1>");
      },
    },
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const { acr, ...rest } = account;
        return { sub: id, ...rest };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  conformIdTokenClaims: true,
  renderError: async (ctx, out) => {
    ctx.type = "html";
    ctx.body = page("Erreur", `<h1>Erreur</h1><pre id="erreur">${escape(JSON.stringify(out))}</pre>`);
  },
});
provider.proxy = false;

// Test switch: the next ID token re-signed for another audience (a token meant for another
// service, as an attacker would replay it).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === "/token" && ctx.status === 200 && mode.idTokenAudience && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, { aud: mode.idTokenAudience }) };
    mode.idTokenAudience = null;
  }
  if (ctx.path === "/me" && ctx.status === 200 && mode.userinfoJson && typeof ctx.body === "string") {
    // the same claims as plain JSON, as an OpenID provider without signed user info answers
    const [, payload] = ctx.body.split(".");
    const { aud, iss, iat, exp, ...claims } = JSON.parse(Buffer.from(payload, "base64url"));
    ctx.body = claims;
    ctx.type = "application/json";
    mode.userinfoJson = false;
  }
});

function b64url(buffer) {
  return Buffer.from(buffer).toString("base64url");
}

function resign(token, changes) {
  const [header, payload] = token.split(".");
  const body = { ...JSON.parse(Buffer.from(payload, "base64url")), ...changes };
  const signed = `${header}.${b64url(JSON.stringify(body))}`;
  return `${signed}.${b64url(crypto.sign("sha256", Buffer.from(signed), privateKey))}`;
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${title} — ProConnect (test)</title></head>
<body style="font-family:Arial,sans-serif;max-width:30em;margin:3em auto">${body}</body></html>`;
}

function readForm(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (chunk) => { data += chunk; });
    req.on("end", () => resolve(new URLSearchParams(data)));
  });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (prompt.name === "login") {
    let error = "";
    if (req.method === "POST") {
      const form = await readForm(req);
      const email = (form.get("email") || "").trim().toLowerCase();
      if (accounts[email]) {
        const result = { login: { accountId: email, acr: accounts[email].acr, amr: ["pwd"] } };
        return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      }
      error = `<p id="erreur" role="alert">Compte inconnu : ${escape(email)}</p>`;
    }
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(page("Connexion", `<h1>ProConnect (fournisseur de test)</h1>${error}
      <form method="post" action="/interaction/${uid}">
        <label for="email">Adresse e-mail professionnelle</label><br>
        <input id="email" name="email" type="email" required autofocus><br>
        <label for="password">Mot de passe</label><br>
        <input id="password" name="password" type="password"><br>
        <button id="se-connecter" type="submit">Se connecter</button>
      </form><p>Client : ${escape(params.client_id)}</p>`));
    return undefined;
  }
  // consent: granted at once, for what was asked
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, {
    mergeWithLastSubmission: true,
  });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    if (req.url.startsWith("/interaction/")) {
      await interaction(req, res);
    } else if (req.url === "/test/mode" && req.method === "POST") {
      const body = await new Promise((resolve) => {
        let data = "";
        req.on("data", (c) => { data += c; });
        req.on("end", () => resolve(JSON.parse(data || "{}")));
      });
      Object.assign(mode, body);
      res.end("ok");
    } else {
      callback(req, res);
    }
  } catch (error) {
    res.statusCode = 500;
    res.end(`erreur du fournisseur de test : ${error}`);
  }
});
server.listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`PRET ${config.issuer}\n`);
});
