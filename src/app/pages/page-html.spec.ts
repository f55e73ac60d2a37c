import { escapeHtml, html, messageAttributes, SafeHtml } from './page-html';
import { acceptedLanguages, fill, negotiateLanguage } from './page-strings';

describe('page rendering', () => {
  it('escapes every interpolated value, in text and in attributes; only SafeHtml passes as it is', () => {
    const hostile = `"><script>alert('x')</script>&`;
    expect(html`<p title="${hostile}">${hostile}</p>`.value).toBe(
      '<p title="&#34;&#62;&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#38;">&#34;&#62;&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#38;</p>',
    );
    expect(html`<div>${new SafeHtml('<b>ok</b>')}${[html`<i>${'<'}</i>`]}${undefined}${false}</div>`.value).toBe('<div><b>ok</b><i>&#60;</i></div>');
    expect(escapeHtml(42)).toBe('42');
  });

  it('puts page messages in data-msg-* attributes, escaped, with kebab-case names', () => {
    expect(messageAttributes({ wrongCode: 'Say "no" <now>' }, ['wrongCode']).value).toBe(' data-msg-wrong-code="Say &#34;no&#34; &#60;now&#62;"');
  });

  it('fills {{name}} placeholders it is given and leaves others', () => {
    expect(fill('Wait {{seconds}} s, {{other}}', { seconds: 5 })).toBe('Wait 5 s, {{other}}');
  });

  it('picks the page language from Accept-Language by quality, then order; English when none matches', () => {
    expect(negotiateLanguage('de;q=0.2, fr;q=0.9, pt')).toBe('pt');
    expect(acceptedLanguages('de;q=0.2, fr;q=0.9, pt, pt-BR, xx, en;q=0')).toEqual(['pt', 'fr', 'de']);
    expect(negotiateLanguage('fr-CA;q=oops')).toBe('fr');
    expect(negotiateLanguage(undefined)).toBe('en');
    expect(negotiateLanguage('*')).toBe('en');
  });
});
