import { addMember, copySalesDatabase, createOrg, expect, screenshots, seedDemo, signIn, test } from './support';

// A member asks a copy of the demo sales database from the Ask page; the
// "model" is stub-gemini.mjs over Gemini's real wire format. The team is its
// own organization, so the demo's stays as the other tests expect it.
test('a member asks, watches the stages, reads the answer, SQL, rows and chart, then follows up', async ({ page }, info) => {
  const demo = seedDemo();
  const id = 300_000_000 + Math.floor(Math.random() * 1_000_000);
  const team = createOrg(`Askers ${id}`, id, 'Ola Owner');
  copySalesDatabase(demo.orgId, 'sales.db', team.orgId);
  await signIn(page, team);
  await page.getByRole('link', { name: 'Databases' }).click();
  await page.getByLabel('Name').fill('Team sales');
  await page.getByLabel('Kind').selectOption('sqlite');
  await page.getByLabel('Connection string').fill('sqlite://sales.db');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('test-summary')).toContainText('5 tables, 1 view');
  await page.getByRole('button', { name: 'Add database' }).click();
  await expect(page.getByRole('row', { name: /Team sales/ })).toHaveCount(1);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  const mia = addMember(team.orgId, id + 1, 'Mia Ask');
  await signIn(page, mia);
  await page.getByRole('link', { name: 'Ask', exact: true }).click();
  await expect(page).toHaveURL(/\/ask$/);

  const question = page.getByLabel('Your question');
  await question.fill('What is the revenue by region?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();

  const latest = page.getByTestId('exchange').first();
  await expect(latest.getByTestId('exchange-question')).toHaveText('What is the revenue by region?');
  await expect(latest.getByTestId('ask-status')).toHaveText('answered');
  // Every stage was shown on the way.
  const steps = latest.getByTestId('ask-steps');
  await expect(steps).toContainText('Reading the question and the schema');
  await expect(steps).toContainText('Running the SQL');
  await expect(steps).toContainText('4 rows');
  await expect(steps).toContainText('Writing the answer');
  await expect(latest.getByTestId('ask-text')).toContainText('leads with');
  await expect(latest.getByTestId('ask-sql')).toContainText('JOIN regions r');
  const rows = latest.getByTestId('ask-rows');
  await expect(rows.locator('tbody tr')).toHaveCount(4);
  await expect(rows.locator('thead')).toContainText('region');
  // The chart is drawn (ECharts puts a canvas in the box) and described.
  const chart = latest.getByTestId('ask-chart-1');
  await expect(chart).toHaveAttribute('aria-label', /revenue by region: /);
  await expect(chart.locator('canvas')).toHaveCount(1);
  await expect(latest.getByTestId('ask-costs')).toContainText('2 calls to the model');
  await screenshots(page, info, 'ask');

  // The follow-up only works if the server remembered the first turn.
  await question.fill('And only the North?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const followUp = page.getByTestId('exchange').first();
  await expect(followUp.getByTestId('exchange-question')).toHaveText('And only the North?');
  await expect(followUp.getByTestId('ask-status')).toHaveText('answered');
  await expect(followUp.getByTestId('ask-sql')).toContainText("WHERE r.name = 'North'");
  await expect(followUp.getByTestId('ask-rows').locator('tbody tr')).toHaveCount(1);
  await expect(followUp.getByTestId('ask-text')).toContainText('North leads with');
  // The first answer stays on the page below it.
  await expect(page.getByTestId('exchange')).toHaveCount(2);

  // A vague question gets the model's clarifying question, no SQL.
  await question.fill('How are we doing?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const vague = page.getByTestId('exchange').first();
  await expect(vague.getByTestId('ask-text')).toContainText('Which figures would you like to see?');
  await expect(vague.getByTestId('ask-sql')).toHaveCount(0);
});
