// Where the 402 "not enough credits" link leads (`/credits`): the caller's balance, how credits are granted on
// this hub, the admin's contact text and one button per way to pay. A payment plugin adds its button by
// implementing `PaymentProvider.checkout_link` (docs/billing.md, "Payment plugins"); with none installed the
// page says whom to ask.
import { isNotAvailable } from "../api";
import { billing, type PurchaseInfo } from "../billing";
import { formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { AsyncView, NotAvailable, useAsync } from "../components/ui";
import { Stat } from "./Account";

export function BuyCreditsPage() {
  const { t } = useI18n();
  const info = useAsync(() => billing.purchase(), []);
  return (
    <section className="buy-credits">
      <h1>{t("Buy credits")}</h1>
      {info.error && isNotAvailable(info.error) ? (
        <NotAvailable feature={t("Credits")} detail={t("This hub does not charge credits, so there is nothing to buy.")} />
      ) : (
        <AsyncView state={info}>{(p) => <Purchase info={p} />}</AsyncView>
      )}
    </section>
  );
}

function Purchase({ info }: { info: PurchaseInfo }) {
  const { t } = useI18n();
  const money = (v: string | null | undefined) => `${info.balance.creditPrefix ?? ""}${formatNumber(Number(v ?? 0), 4)}`;
  const ways = info.options.filter((o) => o.link);
  return (
    <>
      {!info.active && <p className="warn-text">{t("Credits are not charged on this hub at the moment.")}</p>}
      <div className="stats" data-testid="purchase-balance">
        <Stat label={t("Available balance")} value={money(info.balance.balance)} />
        <Stat label={t("On hold")} value={money(info.balance.pendingCredit)} />
        <Stat label={t("Used")} value={money(info.balance.used)} />
      </div>
      <div className="card">
        <h2>{t("Top up")}</h2>
        {ways.length ? (
          <div className="row gap wrap" data-testid="payment-options">
            {ways.map((o) => (
              <a key={o.name} className="btn primary" href={o.link ?? undefined} target="_blank" rel="noreferrer" data-payment={o.name}>
                {o.name === "link" ? t("Buy credits") : t("Pay with {name}", { name: o.displayName })}
              </a>
            ))}
          </div>
        ) : (
          <p data-testid="no-payment">{t("Credits cannot be bought online on this hub yet.")}</p>
        )}
        <p className="contact" data-testid="admin-contact">
          {info.contact || t("Ask an administrator of this hub to grant you credits.")}
        </p>
      </div>
      <div className="card">
        <h2>{t("How credits are granted here")}</h2>
        <ul className="plain-list">
          <li>{t("Administrators grant credits by hand, optionally with an expiry date.")}</li>
          {Number(info.welcome.amount ?? 0) > 0 && (
            <li>
              {info.welcome.expiresInDays
                ? t("Every new user receives {n} credits, valid for {days} days.", { n: formatNumber(Number(info.welcome.amount), 4), days: info.welcome.expiresInDays })
                : t("Every new user receives {n} credits.", { n: formatNumber(Number(info.welcome.amount), 4) })}
            </li>
          )}
          {info.options.some((o) => o.name !== "link") && <li>{t("Payments made through the buttons above are credited automatically, once each.")}</li>}
          <li>{t("Each call is charged from its model's rate; see the pricing page.")}</li>
        </ul>
        <p className="row gap wrap">
          <Link to="/pricing">{t("Pricing")}</Link>
          <Link to="/account">{t("My balance and history")}</Link>
        </p>
      </div>
    </>
  );
}
