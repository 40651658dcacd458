import { createUser, expect, test } from './support';

test('signed out, the dashboard sends you to the login page', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in to Tabletalk' })).toBeVisible();
});

test('a wrong password gets a clear error, the right one signs in', async ({ page }) => {
  const user = createUser();
  await page.goto('/login');
  const signIn = page.getByRole('button', { name: 'Sign in' });
  // The button is enabled by the hydrated app: this waits for the WASM to take over.
  await expect(signIn).toBeEnabled();

  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('not the password');
  await signIn.click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  await expect(page).toHaveURL(/\/login$/);
  expect(page.url()).not.toContain('password');

  await page.getByLabel('Password').fill(user.password);
  await signIn.click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('username')).toHaveText(user.username);
  await expect(page.getByTestId('role')).toHaveText('individual');

  // The session survives a reload (the cookie is checked on the server).
  await page.reload();
  await expect(page.getByTestId('username')).toHaveText(user.username);

  // Signing out ends the session: the dashboard is closed again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});
