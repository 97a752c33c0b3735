// Email through Amazon SES v2: in AWS from the stack's verified sender identity, locally to the
// aws-ses-v2-local emulator (the SDK reads its endpoint from AWS_ENDPOINT_URL_SESV2).
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { EmailMessage, EmailSender } from '../channel';

/** The sender address (an SES verified identity in AWS). */
export const EMAIL_FROM_VAR = 'FAULTLINE_EMAIL_FROM';

export function createSesEmailSender(from: string, client = new SESv2Client({})): EmailSender {
  return {
    async send(message: EmailMessage) {
      const { MessageId } = await client.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: message.to },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: message.text, Charset: 'UTF-8' },
                Html: { Data: message.html, Charset: 'UTF-8' },
              },
            },
          },
        }),
      );
      return { messageId: MessageId ?? '' };
    },
  };
}
